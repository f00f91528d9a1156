// SPDX-License-Identifier: GPL-2.0
/* report.c - rdmapin's results as emitter calls; see report.h. */
#define _GNU_SOURCE
#include <string.h>

#include "errname.h"
#include "report.h"

static void fmt_count(char *buf, size_t len, int v, int of)
{
	if (v < 0)
		snprintf(buf, len, "n/a");
	else if (of > 0)
		snprintf(buf, len, "%d/%d", v, of);
	else
		snprintf(buf, len, "%d", v);
}

/* 0 registered, the errno, or -1 when the case never got to (or past) the registration */
static int reg_errno(const struct rp_result *r)
{
	const struct rp_obs *o = &r->obs;

	if (r->status == RP_SKIP || o->err || o->timed_out || o->signal || !o->valid)
		return -1;
	return o->reg_errno;
}

static void emit_result(struct em *e, const struct rp_result *r)
{
	const struct rp_obs *o = &r->obs;
	const struct rp_case *c = r->c;
	char sd[24], pfn[24], uf[24], diag[512];
	int reg = reg_errno(r);
	size_t len;
	const struct em_field fields[] = {
		EM_STR("mutation", rp_mutation_info(c->mutation)->name),
		EM_STR("mark", rp_mark_name(c->mark)),
		EM_NUM("pages_probed", o->pages),
		EM_NUM("soft_dirty_pages", o->soft_dirty),
		EM_NUM("pfn_changed_pages", o->pfn_changed),
		EM_NUM("pfn_changed_exclusive", o->pfn_changed_excl),
		EM_NUM("uffd_wp_events", o->uffd_wp_events),
		EM_NUM("first_diff", o->data_diff >= 0 ? o->data_diff : o->baseline_diff),
		EM_STR("backing_desc", o->backing_desc),
		EM_NUM("marked_pages", o->marked),
		EM_NUM("soft_dirty_lost", o->sd_lost),
		EM_NUM("uffd_wp_lost", o->wp_lost),
		EM_NUM("uffd_wp_added", o->wp_added),
		EM_NUM("wp_write_faults", o->wp_write_faults),
		EM_NUM("wp_write_units", o->wp_units),
		EM_NUM("wp_write_units_off", o->wp_write_bad),
		EM_NUM("thp_split_pmd", o->thp_split_pmd),
		EM_STR("teardown_error", rp_errname(o->teardown_err)),
	};
	struct em_case ec = {
		.name = rp_case_name(c),
		.status = r->status == RP_PASS ? EM_PASS : r->status == RP_FAIL ? EM_FAIL : EM_SKIP,
		.verdict = rp_verdict_name(r->verdict),
		.reason = r->reason,
		.backing = rp_backing_info(c->backing)->name,
		.access = rp_access_name(c->access),
		.expected = rp_expect_name(c->expect),
		.reg_errno = reg,
		.dereg_errno = reg == 0 ? o->dereg_errno : -1,
		.kmsg_issues = o->kmsg_issues,
		.diag = diag,
		.fields = fields,
		.nfields = sizeof(fields) / sizeof(fields[0]),
	};

	fmt_count(sd, sizeof(sd), o->soft_dirty, o->pages);
	fmt_count(pfn, sizeof(pfn), o->pfn_changed, o->pages);
	fmt_count(uf, sizeof(uf), o->uffd_wp_events, 0);
	len = (size_t)snprintf(diag, sizeof(diag), "soft_dirty=%s pfn_changed=%s uffd_wp=%s", sd,
			       pfn, uf);
	if (c->mark && len < sizeof(diag))
		len += (size_t)snprintf(diag + len, sizeof(diag) - len, "\nkept: marked=%d "
					"soft_dirty_lost=%d uffd_wp_lost=%d uffd_wp_added=%d "
					"write_faults=%d/%d units_off=%d", o->marked, o->sd_lost,
					o->wp_lost, o->wp_added, o->wp_write_faults, o->wp_units,
					o->wp_write_bad);
	if (o->backing_desc[0] && len < sizeof(diag))
		snprintf(diag + len, sizeof(diag) - len, "\n%s", o->backing_desc);
	em_case(e, &ec);
}

int rp_report(FILE *f, enum em_format fmt, const struct rp_run *run)
{
	const char *notes[sizeof(run->notes) / sizeof(run->notes[0])];
	char title[64];
	const struct em_field fields[] = { EM_NUM("pages", (long long)run->pages) };
	struct em_run er = {
		.tool = "rdmapin", .kernel = run->kernel, .title = title,
		.notes = notes, .nnotes = (size_t)run->nnotes,
		.fields = fields, .nfields = 1,
		.ndevices = run->ndevices, .skip_reason = "no RDMA device",
	};
	struct em e;
	size_t d, i;

	for (i = 0; i < (size_t)run->nnotes; i++)
		notes[i] = run->notes[i];
	snprintf(title, sizeof(title), "%zu pages per small-page backing", run->pages);
	em_begin(&e, f, fmt, &er);
	for (d = 0; d < run->ndevices; d++) {
		const struct rp_device_result *dr = &run->devices[d];

		em_device_begin(&e, dr->name, dr->n);
		for (i = 0; i < dr->n; i++)
			emit_result(&e, &dr->results[i]);
		em_device_end(&e, dr->status == RP_FAIL, dr->skip_reason);
	}
	return em_end(&e);
}
