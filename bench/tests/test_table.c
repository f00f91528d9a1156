// SPDX-License-Identifier: GPL-2.0
/*
 * test_table.c - rdmapin-bench's records and --combine on fixture data (no RDMA): a record
 * survives print + parse, malformed lines are refused, the rows come out grouped and sorted,
 * the ratios (K/ref, memcpy-normalised, rdmapin/ib_read_bw) are the ones the fixtures make,
 * and the table and JSON carry them, and the plot files name every block.
 * usage: test_table FIXTURE_DIR
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record.h"
#include "runs.h"
#include "unit.h"

static const char *dir;

static int load(struct bs_run *run, const char *kernel, const char *file, char *why, size_t len)
{
	char path[4096];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f) {
		snprintf(why, len, "%.200s: %s", path, strerror(errno));
		return -errno;
	}
	ret = bs_run_load(run, kernel, f, why, len);
	fclose(f);
	return ret;
}

static bool near(double a, double b)
{
	return fabs(a - b) < 1e-9 * (fabs(b) + 1);
}

static void check_records(void)
{
	struct bs_rec r = { .type = BS_REG, .device = "rxe0", .backing = "anon_zero",
			    .size = 65536, .status = BS_REGFAIL, .err = -14 };
	struct bs_rec back;
	char buf[1024], why[160], sz[16];
	uint64_t v;
	FILE *f;

	r.copy = (struct bs_stat){ 3, 1000, 900, 1100 };
	snprintf(r.why, sizeof(r.why), "ibv_reg_mr(REMOTE_READ): EFAULT with spaces");
	f = fmemopen(buf, sizeof(buf), "w");
	bs_rec_print(f, &r);
	fclose(f);
	CHECK(!bs_rec_parse(buf, &back, why, sizeof(why)) && back.status == BS_REGFAIL &&
	      back.err == -14 && back.size == 65536 && back.copy.n == 3 && back.copy.med == 1000 &&
	      !strcmp(back.why, r.why) && !strcmp(back.backing, "anon_zero"),
	      "record.round_trip # %s", buf);
	CHECK(bs_rec_parse("# comment\n", &back, why, sizeof(why)) == 1, "record.comment");
	CHECK(bs_rec_parse("\n", &back, why, sizeof(why)) == 1, "record.blank");
	CHECK(bs_rec_parse("reg device=rxe0 size=4096 status=ok\n", &back, why, sizeof(why)) ==
	      -EINVAL, "record.reg_without_backing # %s", why);
	CHECK(bs_rec_parse("reg device=rxe0 backing=x size=4096 status=ok\n", &back, why,
			   sizeof(why)) == -EINVAL, "record.ok_without_figures # %s", why);
	CHECK(bs_rec_parse("reg device=rxe0 backing=x size=4096 status=ok reg=3/5/6/7 dereg=1/1/1/1",
			   &back, why, sizeof(why)) == -EINVAL, "record.median_below_min # %s", why);
	CHECK(bs_rec_parse("frob device=rxe0", &back, why, sizeof(why)) == -EINVAL,
	      "record.unknown_type # %s", why);
	CHECK(bs_rec_parse("verify device=rxe0 size=0x10 status=ok bw=1/1/1/1", &back, why,
			   sizeof(why)) == -EINVAL, "record.bad_size # %s", why);
	CHECK(bs_rec_parse("verify device=rxe0 size=16 status=ok bw=1/1/1/1 color=red", &back, why,
			   sizeof(why)) == -EINVAL, "record.unknown_field # %s", why);
	CHECK(!bs_size_parse("16M", &v) && v == 16 << 20 && !bs_size_parse("4096", &v) &&
	      v == 4096 && !bs_size_parse("1G", &v) && v == 1 << 30 && bs_size_parse("1Q", &v) &&
	      bs_size_parse("M", &v) && bs_size_parse("0", &v) && bs_size_parse("4KB", &v),
	      "size.parse");
	CHECK(!strcmp(bs_size_str(4096, sz, sizeof(sz)), "4K") &&
	      !strcmp(bs_size_str(256 << 20, sz, sizeof(sz)), "256M") &&
	      !strcmp(bs_size_str(1ULL << 30, sz, sizeof(sz)), "1G") &&
	      !strcmp(bs_size_str(5000, sz, sizeof(sz)), "5000"), "size.str");
}

static void check_stats(void)
{
	double v[] = { 5, 1, 4, 2, 3 }, w[] = { 4, 1, 3, 2 };
	struct bs_stat s;

	bs_stat_of(v, 5, &s);
	CHECK(s.n == 5 && s.med == 3 && s.min == 1 && s.max == 5 && near(bs_spread(&s), 4.0 / 3),
	      "stats.odd");
	bs_stat_of(w, 4, &s);
	CHECK(s.med == 2.5, "stats.even # %g", s.med);
	bs_stat_of(w, 0, &s);
	CHECK(s.n == 0 && bs_spread(&s) == 0, "stats.empty");
}

static void check_combine(void)
{
	struct bs_run runs[2], bad;
	struct bs_row *rows, row;
	const struct bs_rec *b, *p;
	char why[256], *text = NULL, path[4096], line[4096];
	size_t len = 0;
	int n, ret;
	FILE *f;

	ret = load(&runs[0], "base", "base.rec", why, sizeof(why));
	CHECK(!ret, "combine.load_base # %s", why);
	ret |= load(&runs[1], "patched", "patched.rec", why, sizeof(why));
	CHECK(!ret, "combine.load_patched # %s", why);
	if (ret)
		return;
	CHECK(load(&bad, "bad", "bad.rec", why, sizeof(why)) == -EINVAL && strstr(why, "line 2"),
	      "combine.bad_file_names_the_line # %s", why);
	bs_run_free(&bad);

	n = bs_rows(runs, 2, BS_REG, &rows);
	/* rxe0: anon_zero 4K, 4M; file_shared_ro 4M; hugetlb 4M; siw0: anon_zero 4M */
	CHECK(n == 5 && !strcmp(rows[0].backing, "anon_zero") && rows[0].size == 4096 &&
	      rows[1].size == 4 << 20 && !strcmp(rows[2].backing, "file_shared_ro") &&
	      !strcmp(rows[3].backing, "hugetlb_private") && !strcmp(rows[4].device, "siw0"),
	      "combine.rows_grouped_and_sorted # %d", n);
	if (n == 5) {
		b = bs_run_find(&runs[0], &rows[1]);
		p = bs_run_find(&runs[1], &rows[1]);
		CHECK(b && p && near(bs_ratio(bs_reg_med(p), bs_reg_med(b)), 0.8),
		      "combine.ratio_patched_base");
		CHECK(near(bs_norm_ratio(p, b), 1.0), "combine.ratio_normalised_by_memcpy");
		CHECK(near(bs_ratio(bs_reg_med(b), bs_copy_med(b)), 2.0), "combine.reg_per_memcpy");
		b = bs_run_find(&runs[0], &rows[2]);
		p = bs_run_find(&runs[1], &rows[2]);
		CHECK(isnan(bs_ratio(bs_reg_med(p), bs_reg_med(b))) &&
		      !strcmp(bs_cell_status(b), "EFAULT"), "combine.regfail_has_no_ratio");
		CHECK(!strcmp(bs_cell_status(bs_run_find(&runs[0], &rows[3])), "skip") &&
		      !strcmp(bs_cell_status(bs_run_find(&runs[1], &rows[4])), "error"),
		      "combine.skip_and_error_cells");
	}
	free(rows);
	row = (struct bs_row){ BS_VERIFY, "rxe0", NULL, 16 << 20 };
	b = bs_run_find(&runs[1], &row);
	row.type = BS_IBBW;
	p = bs_run_find(&runs[1], &row);
	CHECK(near(bs_ratio(bs_bw_med(b), bs_bw_med(p)), 0.9), "combine.verify_per_ib_read_bw");

	f = open_memstream(&text, &len);
	bs_print_table(f, runs, 2);
	fclose(f);
	CHECK(strstr(text, "patched/base") != NULL, "table.ratio_column");
	/* the 4M anon_zero row: base 10 ms, xcopy 2.00; patched 8.00 ms; ratio 0.80, norm 1.00 */
	CHECK(strstr(text, "10.00  30%   2.00    0.200") && strstr(text, "0.80  1.00  0.50"),
	      "table.anon_zero_4M_cells");
	CHECK(strstr(text, "EFAULT") && strstr(text, "skip") && strstr(text, "error"),
	      "table.status_cells");
	CHECK(strstr(text, "# patched rxe0 anon_zero 4M: error: no result within") ||
	      strstr(text, "# patched siw0 anon_zero 4M: error: no result within"),
	      "table.why_lines");
	CHECK(strstr(text, "90.0      100.0  0.90") && strstr(text, "45.0       50.0  0.90"),
	      "table.verify_cells");
	CHECK(strstr(text, "# base: host_before=load average: 1.00, 1.00, 1.00") != NULL,
	      "table.info_lines");
	if (unit_failed)
		fputs(text, stderr);
	free(text);

	text = NULL;
	f = open_memstream(&text, &len);
	CHECK(!bs_print_json(f, runs, 2), "json.printed");
	fclose(f);
	CHECK(strstr(text, "\"patched/base\": {\"reg\": 0.8, \"reg_norm_memcpy\": 1, "
			   "\"dereg\": 0.5}") &&
	      strstr(text, "\"rdmapin_per_ib_read_bw\": {\"base\": 0.9, \"patched\": 0.9}") &&
	      strstr(text, "\"errno\": \"EFAULT\"") && strstr(text, "\"reg\": null"),
	      "json.ratios_and_nulls");
	free(text);

	snprintf(path, sizeof(path), "/tmp/bench-plot.XXXXXX");
	if (mkdtemp(path)) {
		char dat[4200];
		int blocks = 0;

		CHECK(!bs_write_plot(path, runs, 2), "plot.written");
		snprintf(dat, sizeof(dat), "%s/bench.gp", path);
		f = fopen(dat, "r");
		while (f && fgets(line, sizeof(line), f))
			blocks += strstr(line, "index ") != NULL;
		if (f)
			fclose(f);
		/* per device and kernel: memcpy + 3 backings (rxe0) or 1 (siw0)... every backing
		 * is drawn on every device: 2 devices x 2 kernels x (1 + 3) */
		CHECK(blocks == 16, "plot.one_block_per_device_kernel_backing # %d", blocks);
		unlink(dat);
		snprintf(dat, sizeof(dat), "%s/bench.dat", path);
		unlink(dat);
		rmdir(path);
	}
	bs_run_free(&runs[0]);
	bs_run_free(&runs[1]);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_table FIXTURE_DIR\n");
		return 2;
	}
	dir = argv[1];
	unit_begin();
	check_records();
	check_stats();
	check_combine();
	return unit_done();
}
