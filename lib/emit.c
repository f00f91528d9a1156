// SPDX-License-Identifier: GPL-2.0
/* emit.c - KTAP / table / JSON from one sequence of calls; see emit.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "emit.h"
#include "errname.h"

static const char *const status_names[] = { "pass", "fail", "skip" };

const char *em_errname(int err)
{
	return err == -1 ? "" : rp_errname(err); /* -1: the step was not attempted */
}

int em_parse_format(const char *s, enum em_format *fmt)
{
	if (!strcmp(s, "ktap"))
		*fmt = EM_KTAP;
	else if (!strcmp(s, "table"))
		*fmt = EM_TABLE;
	else if (!strcmp(s, "json"))
		*fmt = EM_JSON;
	else
		return -EINVAL;
	return 0;
}

void em_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
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

static void json_key(FILE *f, const char *key)
{
	fprintf(f, ",\"%s\":", key);
}

static void json_fields(FILE *f, const struct em_field *fl, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		json_key(f, fl[i].key);
		if (fl[i].str)
			em_json_str(f, fl[i].str);
		else
			fprintf(f, "%lld", fl[i].num);
	}
}

/* KTAP and table text is one line: newlines become spaces */
static void one_line(FILE *f, const char *s)
{
	for (; s && *s; s++)
		fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
}

/* The registration outcome as text: "ok", the errno name, or "-" (not attempted). */
static const char *reg_text(int err)
{
	return err < 0 ? "-" : err ? em_errname(err) : "ok";
}

void em_begin(struct em *e, FILE *f, enum em_format fmt, const struct em_run *run)
{
	size_t i;

	memset(e, 0, sizeof(*e));
	e->f = f;
	e->fmt = fmt;
	e->tool = run->tool;
	e->ndevices = run->ndevices;
	switch (fmt) {
	case EM_KTAP:
		fprintf(f, "KTAP version 1\n# %s: kernel %s%s%s\n", run->tool, run->kernel,
			run->title ? ", " : "", run->title ? run->title : "");
		for (i = 0; i < run->nnotes; i++) {
			fputs("# ", f);
			one_line(f, run->notes[i]);
			fputc('\n', f);
		}
		if (run->ndevices)
			fprintf(f, "1..%zu\n", run->ndevices);
		else
			fprintf(f, "1..0 # SKIP %s\n", run->skip_reason ?: "no device");
		break;
	case EM_TABLE:
		fprintf(f, "%s on %s%s%s\n", run->tool, run->kernel, run->title ? ", " : "",
			run->title ? run->title : "");
		for (i = 0; i < run->nnotes; i++)
			fprintf(f, "note: %s\n", run->notes[i]);
		if (!run->ndevices)
			fprintf(f, "skipped: %s\n", run->skip_reason ?: "no device");
		fprintf(f, "%-8s %-44s %-6s %-10s %-10s %-6s %-4s %-44s %s\n", "device", "case",
			"status", "verdict", "reg", "dereg", "kmsg", "observed", "reason");
		break;
	case EM_JSON:
		fprintf(f, "{\"tool\":");
		em_json_str(f, run->tool);
		fprintf(f, ",\"version\":%d,\"kernel\":", EM_SCHEMA_VERSION);
		em_json_str(f, run->kernel);
		json_fields(f, run->fields, run->nfields);
		fprintf(f, ",\"skip_reason\":");
		em_json_str(f, run->ndevices ? "" : run->skip_reason ?: "no device");
		fprintf(f, ",\"notes\":[");
		for (i = 0; i < run->nnotes; i++) {
			fputs(i ? "," : "", f);
			em_json_str(f, run->notes[i]);
		}
		fprintf(f, "],\n \"devices\":[");
		break;
	}
}

void em_device_begin(struct em *e, const char *device, size_t ncases)
{
	e->devname = device;
	e->ncases = ncases;
	e->ncase = 0;
	memset(e->dev_counts, 0, sizeof(e->dev_counts));
	switch (e->fmt) {
	case EM_KTAP:
		if (ncases)
			fprintf(e->f, "    KTAP version 1\n    # Subtest: %s\n    1..%zu\n", device,
				ncases);
		break;
	case EM_TABLE:
		break;
	case EM_JSON:
		fprintf(e->f, "%s\n  {\"device\":", e->device ? "," : "");
		em_json_str(e->f, device);
		fprintf(e->f, ",\"cases\":[");
		break;
	}
}

/* KTAP: "    # name: line" for each line of text */
static void ktap_diag_lines(FILE *f, const char *name, const char *text)
{
	while (text && *text) {
		const char *nl = strchr(text, '\n');
		int len = nl ? (int)(nl - text) : (int)strlen(text);

		if (len)
			fprintf(f, "    # %s: %.*s\n", name, len, text);
		text = nl ? nl + 1 : "";
	}
}

static void ktap_case(struct em *e, const struct em_case *c)
{
	FILE *f = e->f;

	if (c->status != EM_SKIP) {
		fprintf(f, "    # %s: %s reg=%s", c->name, c->verdict, reg_text(c->reg_errno));
		if (c->dereg_errno > 0)
			fprintf(f, " dereg=%s", em_errname(c->dereg_errno));
		if (c->kmsg_issues >= 0)
			fprintf(f, " kmsg=%d", c->kmsg_issues);
		else
			fprintf(f, " kmsg=n/a");
		if (c->diag && *c->diag) {
			const char *nl = strchr(c->diag, '\n');

			fprintf(f, " %.*s", nl ? (int)(nl - c->diag) : (int)strlen(c->diag), c->diag);
			fputc('\n', f);
			if (nl)
				ktap_diag_lines(f, c->name, nl + 1);
		} else {
			fputc('\n', f);
		}
	}
	if (c->status == EM_PASS && c->reason && *c->reason) {
		/* a pass's notes are diagnostics, not directives */
		fprintf(f, "    # %s: ", c->name);
		one_line(f, c->reason);
		fputc('\n', f);
	}
	if (c->status == EM_SKIP)
		fprintf(f, "    ok %zu %s # SKIP ", e->ncase, c->name);
	else
		fprintf(f, "    %s %zu %s%s", c->status == EM_PASS ? "ok" : "not ok", e->ncase,
			c->name, c->status == EM_FAIL && c->reason && *c->reason ? " # " : "");
	if (c->status != EM_PASS)
		one_line(f, c->reason && *c->reason ? c->reason :
			 c->status == EM_SKIP ? "no reason given" : "");
	fputc('\n', f);
}

static void table_case(struct em *e, const struct em_case *c)
{
	const char *nl = c->diag ? strchr(c->diag, '\n') : NULL;
	char kmsg[16], obs[128];

	if (c->kmsg_issues >= 0)
		snprintf(kmsg, sizeof(kmsg), "%d", c->kmsg_issues);
	else
		snprintf(kmsg, sizeof(kmsg), "n/a");
	snprintf(obs, sizeof(obs), "%.*s", nl ? (int)(nl - c->diag) : 127,
		 c->diag && *c->diag && c->status != EM_SKIP ? c->diag : "-");
	fprintf(e->f, "%-8s %-44s %-6s %-10s %-10s %-6s %-4s %-44s ", e->devname, c->name,
		status_names[c->status], c->verdict, c->status == EM_SKIP ? "-" :
		reg_text(c->reg_errno), c->dereg_errno > 0 ? em_errname(c->dereg_errno) :
		c->dereg_errno == 0 ? "ok" : "-", kmsg, obs);
	one_line(e->f, c->reason);
	fputc('\n', e->f);
}

static void json_case(struct em *e, const struct em_case *c)
{
	FILE *f = e->f;

	fprintf(f, "%s\n   {\"name\":", e->ncase > 1 ? "," : "");
	em_json_str(f, c->name);
	fprintf(f, ",\"status\":\"%s\",\"verdict\":", status_names[c->status]);
	em_json_str(f, c->verdict);
	json_key(f, "reason");
	em_json_str(f, c->reason);
	json_key(f, "backing");
	em_json_str(f, c->backing);
	json_key(f, "access");
	em_json_str(f, c->access);
	json_key(f, "expected");
	em_json_str(f, c->expected);
	fprintf(f, ",\"reg_errno\":%d,\"reg_error\":", c->reg_errno);
	em_json_str(f, em_errname(c->reg_errno));
	fprintf(f, ",\"dereg_errno\":%d,\"dereg_error\":", c->dereg_errno);
	em_json_str(f, em_errname(c->dereg_errno));
	fprintf(f, ",\"kmsg_issues\":%d", c->kmsg_issues);
	json_fields(f, c->fields, c->nfields);
	fputc('}', f);
}

void em_case(struct em *e, const struct em_case *c)
{
	e->ncase++;
	e->dev_counts[c->status]++;
	e->totals[c->status]++;
	switch (e->fmt) {
	case EM_KTAP:
		ktap_case(e, c);
		break;
	case EM_TABLE:
		table_case(e, c);
		break;
	case EM_JSON:
		json_case(e, c);
		break;
	}
}

void em_device_end(struct em *e, bool failed, const char *reason)
{
	enum em_status st;
	FILE *f = e->f;

	if (!reason)
		reason = "";
	st = failed || e->dev_counts[EM_FAIL] ? EM_FAIL : e->dev_counts[EM_PASS] ? EM_PASS :
	     EM_SKIP;
	if (st == EM_SKIP && !*reason)
		reason = e->ncase ? "every case skipped" : "no case ran";
	/* a device without cases, or one that failed on its own, counts once more */
	if (!e->ncase || (failed && !e->dev_counts[EM_FAIL]))
		e->totals[st]++;
	e->device++;
	switch (e->fmt) {
	case EM_KTAP:
		if (st == EM_SKIP) {
			fprintf(f, "ok %zu %s # SKIP ", e->device, e->devname);
			one_line(f, reason);
			fputc('\n', f);
			break;
		}
		if (*reason) {
			fprintf(f, "%s# %s: ", e->ncase ? "    " : "", e->devname);
			one_line(f, reason);
			fputc('\n', f);
		}
		fprintf(f, "%s %zu %s\n", st == EM_PASS ? "ok" : "not ok", e->device, e->devname);
		break;
	case EM_TABLE:
		if (!e->ncase || *reason) {
			fprintf(f, "%-8s %-44s %-6s %-10s %-10s %-6s %-4s %-44s ", e->devname, "*",
				status_names[st], st == EM_SKIP ? "SKIPPED" : "ERROR", "-", "-", "-",
				"-");
			one_line(f, reason);
			fputc('\n', f);
		}
		break;
	case EM_JSON:
		fprintf(f, "],\"status\":\"%s\",\"skip_reason\":", status_names[st]);
		em_json_str(f, st == EM_PASS ? "" : reason);
		fputc('}', f);
		break;
	}
}

int em_end(struct em *e)
{
	const int *t = e->totals;
	FILE *f = e->f;

	switch (e->fmt) {
	case EM_KTAP:
		fprintf(f, "# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n",
			t[EM_PASS], t[EM_FAIL], t[EM_SKIP]);
		/* fall through */
	case EM_TABLE:
		fprintf(f, "%s: %d passed, %d failed, %d skipped\n", e->tool, t[EM_PASS],
			t[EM_FAIL], t[EM_SKIP]);
		break;
	case EM_JSON:
		fprintf(f, "],\n \"totals\":{\"pass\":%d,\"fail\":%d,\"skip\":%d}}\n", t[EM_PASS],
			t[EM_FAIL], t[EM_SKIP]);
		break;
	}
	fflush(f);
	return t[EM_FAIL] ? 1 : t[EM_PASS] ? 0 : 4;
}
