// SPDX-License-Identifier: GPL-2.0
/* report.c - KTAP / table / JSON; see report.h. */
#define _GNU_SOURCE
#include <string.h>

#include "report.h"

void rp_run_totals(const struct rp_run *run, int *pass, int *fail, int *skip)
{
	size_t d, i;

	*pass = *fail = *skip = 0;
	for (d = 0; d < run->ndevices; d++) {
		const struct rp_device_result *dr = &run->devices[d];

		if (!dr->n) { /* no case ran: the device skipped, or failed before its cases */
			if (dr->status == RP_FAIL)
				++*fail;
			else
				++*skip;
			continue;
		}
		for (i = 0; i < dr->n; i++) {
			switch (dr->results[i].status) {
			case RP_PASS: ++*pass; break;
			case RP_FAIL: ++*fail; break;
			case RP_SKIP: ++*skip; break;
			}
		}
	}
}

int rp_exit_code(const struct rp_run *run)
{
	int p, f, s;

	rp_run_totals(run, &p, &f, &s);
	return f ? 1 : p ? 0 : 4;
}

/* KTAP lines are single lines: no newline or '#' confusion inside names/reasons. */
static void ktap_text(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
}

static void fmt_count(char *buf, size_t len, int v, int of)
{
	if (v < 0)
		snprintf(buf, len, "n/a");
	else if (of > 0)
		snprintf(buf, len, "%d/%d", v, of);
	else
		snprintf(buf, len, "%d", v);
}

static void reg_text(char *buf, size_t len, const struct rp_result *r)
{
	if (r->status == RP_SKIP || r->obs.err || r->obs.timed_out || r->obs.signal ||
	    !r->obs.valid)
		snprintf(buf, len, "-");
	else if (r->obs.reg_errno)
		snprintf(buf, len, "%s", strerrorname_np(r->obs.reg_errno) ?: "E?");
	else
		snprintf(buf, len, "ok");
}

/* The observed values of one result as text, as both KTAP diagnostics and the table show them. */
struct obs_text {
	char reg[32], sd[24], pfn[24], uf[24], km[24];
};

static void obs_text(struct obs_text *t, const struct rp_result *r)
{
	const struct rp_obs *o = &r->obs;

	reg_text(t->reg, sizeof(t->reg), r);
	fmt_count(t->sd, sizeof(t->sd), o->soft_dirty, o->pages);
	fmt_count(t->pfn, sizeof(t->pfn), o->pfn_changed, o->pages);
	fmt_count(t->uf, sizeof(t->uf), o->uffd_wp_events, 0);
	fmt_count(t->km, sizeof(t->km), o->kmsg_issues, 0);
}

static void ktap(FILE *f, const struct rp_run *run)
{
	size_t d, i;
	int n;

	fprintf(f, "KTAP version 1\n");
	fprintf(f, "# rdmapin: kernel %s, %zu pages per small-page backing\n", run->kernel,
		run->pages);
	for (n = 0; n < run->nnotes; n++) {
		fprintf(f, "# ");
		ktap_text(f, run->notes[n]);
		fprintf(f, "\n");
	}
	fprintf(f, "1..%zu\n", run->ndevices);
	for (d = 0; d < run->ndevices; d++) {
		const struct rp_device_result *dr = &run->devices[d];

		if (!dr->n && dr->status == RP_FAIL) {
			fprintf(f, "# %s: ", dr->name);
			ktap_text(f, dr->skip_reason);
			fprintf(f, "\nnot ok %zu %s\n", d + 1, dr->name);
			continue;
		}
		if (!dr->n) {
			fprintf(f, "ok %zu %s # SKIP ", d + 1, dr->name);
			ktap_text(f, dr->skip_reason);
			fprintf(f, "\n");
			continue;
		}
		fprintf(f, "    KTAP version 1\n    # Subtest: %s\n    1..%zu\n", dr->name, dr->n);
		for (i = 0; i < dr->n; i++) {
			const struct rp_result *r = &dr->results[i];
			const struct rp_obs *o = &r->obs;
			struct obs_text t;

			obs_text(&t, r);
			if (r->status != RP_SKIP) {
				fprintf(f, "    # %s: %s reg=%s soft_dirty=%s pfn_changed=%s "
					"uffd_wp=%s kmsg=%s\n", rp_case_name(r->c),
					rp_verdict_name(r->verdict), t.reg, t.sd, t.pfn, t.uf, t.km);
				if (r->c->mark)
					fprintf(f, "    # %s: kept: marked=%d soft_dirty_lost=%d "
						"uffd_wp_lost=%d uffd_wp_added=%d write_faults=%d/%d "
						"units_off=%d\n", rp_case_name(r->c), o->marked,
						o->sd_lost, o->wp_lost, o->wp_added,
						o->wp_write_faults, o->wp_units, o->wp_write_bad);
				if (o->backing_desc[0]) {
					fprintf(f, "    # %s: ", rp_case_name(r->c));
					ktap_text(f, o->backing_desc);
					fprintf(f, "\n");
				}
			}
			if (r->status == RP_PASS && r->reason[0]) {
				/* a pass's notes are diagnostics, not directives */
				fprintf(f, "    # %s: ", rp_case_name(r->c));
				ktap_text(f, r->reason);
				fprintf(f, "\n");
			}
			if (r->status == RP_SKIP)
				fprintf(f, "    ok %zu %s # SKIP ", i + 1, rp_case_name(r->c));
			else
				fprintf(f, "    %s %zu %s%s", r->status == RP_PASS ? "ok" : "not ok",
					i + 1, rp_case_name(r->c),
					r->status == RP_FAIL && r->reason[0] ? " # " : "");
			if (r->status != RP_PASS)
				ktap_text(f, r->reason);
			fprintf(f, "\n");
		}
		if (dr->status == RP_SKIP)
			fprintf(f, "ok %zu %s # SKIP %s\n", d + 1, dr->name, dr->skip_reason);
		else
			fprintf(f, "%s %zu %s\n", dr->status == RP_PASS ? "ok" : "not ok", d + 1,
				dr->name);
	}
	{
		int p, fl, s;

		rp_run_totals(run, &p, &fl, &s);
		fprintf(f, "# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n", p, fl, s);
		fprintf(f, "rdmapin: %d passed, %d failed, %d skipped\n", p, fl, s);
	}
}

static void table(FILE *f, const struct rp_run *run)
{
	size_t d, i;
	int n, p, fl, s;

	fprintf(f, "rdmapin on %s, %zu pages per small-page backing\n", run->kernel, run->pages);
	for (n = 0; n < run->nnotes; n++)
		fprintf(f, "note: %s\n", run->notes[n]);
	fprintf(f, "%-8s %-44s %-6s %-9s %-7s %-10s %-11s %-5s %-4s %s\n", "device", "case",
		"status", "verdict", "reg", "soft_dirty", "pfn_changed", "uffd", "kmsg", "reason");
	for (d = 0; d < run->ndevices; d++) {
		const struct rp_device_result *dr = &run->devices[d];

		if (!dr->n)
			fprintf(f, "%-8s %-44s %-6s %-9s %-7s %-10s %-11s %-5s %-4s %s\n", dr->name,
				"*", dr->status == RP_FAIL ? "fail" : "skip",
				dr->status == RP_FAIL ? "ERROR" : "SKIPPED", "-", "-", "-", "-", "-",
				dr->skip_reason);
		for (i = 0; i < dr->n; i++) {
			const struct rp_result *r = &dr->results[i];
			struct obs_text t;

			obs_text(&t, r);
			fprintf(f, "%-8s %-44s %-6s %-9s %-7s %-10s %-11s %-5s %-4s %s\n", dr->name,
				rp_case_name(r->c), rp_status_name(r->status),
				rp_verdict_name(r->verdict), t.reg, t.sd, t.pfn, t.uf, t.km, r->reason);
		}
	}
	rp_run_totals(run, &p, &fl, &s);
	fprintf(f, "rdmapin: %d passed, %d failed, %d skipped\n", p, fl, s);
}

void rp_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json(FILE *f, const struct rp_run *run)
{
	size_t d, i;
	int n, p, fl, s;

	fprintf(f, "{\"tool\":\"rdmapin\",\"version\":1,\"kernel\":");
	rp_json_str(f, run->kernel);
	fprintf(f, ",\"pages\":%zu,\"notes\":[", run->pages);
	for (n = 0; n < run->nnotes; n++) {
		fprintf(f, "%s", n ? "," : "");
		rp_json_str(f, run->notes[n]);
	}
	fprintf(f, "],\n \"devices\":[");
	for (d = 0; d < run->ndevices; d++) {
		const struct rp_device_result *dr = &run->devices[d];

		fprintf(f, "%s\n  {\"device\":", d ? "," : "");
		rp_json_str(f, dr->name);
		fprintf(f, ",\"status\":\"%s\",\"skip_reason\":",
			rp_status_name(dr->n || dr->status == RP_FAIL ? dr->status : RP_SKIP));
		rp_json_str(f, dr->status == RP_SKIP || !dr->n ? dr->skip_reason : "");
		fprintf(f, ",\"cases\":[");
		for (i = 0; i < dr->n; i++) {
			const struct rp_result *r = &dr->results[i];
			const struct rp_obs *o = &r->obs;

			fprintf(f, "%s\n   {\"name\":", i ? "," : "");
			rp_json_str(f, rp_case_name(r->c));
			fprintf(f, ",\"backing\":");
			rp_json_str(f, rp_backing_info(r->c->backing)->name);
			fprintf(f, ",\"mutation\":");
			rp_json_str(f, rp_mutation_info(r->c->mutation)->name);
			fprintf(f, ",\"access\":");
			rp_json_str(f, rp_access_name(r->c->access));
			fprintf(f, ",\"expect\":");
			rp_json_str(f, rp_expect_name(r->c->expect));
			fprintf(f, ",\"status\":\"%s\",\"reason\":", rp_status_name(r->status));
			rp_json_str(f, r->reason);
			fprintf(f, ",\"reg_errno\":%d,\"reg_error\":", o->reg_errno);
			rp_json_str(f, o->reg_errno ? strerrorname_np(o->reg_errno) ?: "E?" : "");
			fprintf(f, ",\"verdict\":\"%s\",\"soft_dirty_pages\":%d,"
				"\"pfn_changed_pages\":%d,\"uffd_wp_events\":%d,\"kmsg_issues\":%d,"
				"\"pages_probed\":%d,\"first_diff\":%ld,\"backing_desc\":",
				rp_verdict_name(r->verdict), o->soft_dirty, o->pfn_changed,
				o->uffd_wp_events, o->kmsg_issues, o->pages,
				o->data_diff >= 0 ? o->data_diff : o->baseline_diff);
			rp_json_str(f, o->backing_desc);
			fprintf(f, ",\"mark\":");
			rp_json_str(f, rp_mark_name(r->c->mark));
			fprintf(f, ",\"marked_pages\":%d,\"soft_dirty_lost\":%d,\"uffd_wp_lost\":%d,"
				"\"uffd_wp_added\":%d,\"wp_write_faults\":%d,\"wp_write_units\":%d,"
				"\"wp_write_units_off\":%d,\"pfn_changed_exclusive\":%d,"
				"\"thp_split_pmd\":%lld", o->marked, o->sd_lost, o->wp_lost,
				o->wp_added, o->wp_write_faults, o->wp_units, o->wp_write_bad,
				o->pfn_changed_excl, o->thp_split_pmd);
			fprintf(f, "}");
		}
		fprintf(f, "]}");
	}
	rp_run_totals(run, &p, &fl, &s);
	fprintf(f, "],\n \"totals\":{\"pass\":%d,\"fail\":%d,\"skip\":%d}}\n", p, fl, s);
}

void rp_report(FILE *f, enum rp_format fmt, const struct rp_run *run)
{
	switch (fmt) {
	case RP_FMT_KTAP:
		ktap(f, run);
		break;
	case RP_FMT_TABLE:
		table(f, run);
		break;
	case RP_FMT_JSON:
		json(f, run);
		break;
	}
	fflush(f);
}
