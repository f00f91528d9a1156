// SPDX-License-Identifier: GPL-2.0
/*
 * test_rows.c - host unit test of the sweep's row generator and expectation rules (no RDMA).
 * KTAP output; exit 0 when every check holds, 1 otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <infiniband/verbs.h>

#include "rows.h"

static int nchecks, nfail;

static void check(int cond, const char *what)
{
	nchecks++;
	if (!cond)
		nfail++;
	printf("%sok %d %s\n", cond ? "" : "not ", nchecks, what);
}

static const struct sw_row *find(const struct sw_row *rows, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(rows[i].name, name))
			return &rows[i];
	return NULL;
}

static int expect_is(const struct sw_row *r, enum sw_outcome o, int err)
{
	return r && r->expect == o && (o != SW_REFUSED || r->expect_errno == err);
}

int main(void)
{
	static struct sw_row rows[SW_MAX_ROWS];
	int n, not_rows, i, plain = 0, bad = 0, dup = 0, j;

	printf("KTAP version 1\n");
	n = sw_rows_build(rows, SW_MAX_ROWS, &not_rows);
	for (i = 0; i < n; i++) {
		plain += rows[i].edge == SW_PLAIN;
		if (!rows[i].rule || !rows[i].name[0])
			bad++;
		for (j = 0; j < i; j++)
			dup += !strcmp(rows[i].name, rows[j].name);
	}
	check(plain == 8 * 3 * 16 - 16, "368 plain rows: 8 kinds x 3 prots x 16 access masks - 16");
	check(not_rows == 16, "the 16 PROT_WRITE rows of file_shared_ro are not rows");
	check(n >= 300 && n < SW_MAX_ROWS, "at least 300 rows per device");
	check(!bad, "every row has a name and a rule");
	check(!dup, "row names are unique");
	check(!find(rows, n, "file_shared_ro.rw.0"), "file_shared_ro.rw.* is not a row");

	check(expect_is(find(rows, n, "anon_private.r.RR"), SW_REGISTERED, 0),
	      "read-only MR over PROT_READ anon registers");
	check(expect_is(find(rows, n, "file_shared_ro.r.RR"), SW_REGISTERED, 0),
	      "read-only MR over a shared O_RDONLY file registers");
	check(expect_is(find(rows, n, "file_shared_ro.r.0"), SW_REGISTERED, 0),
	      "access 0 is read-only and registers over readable memory");
	check(expect_is(find(rows, n, "anon_private.r.LW"), SW_REFUSED, EFAULT),
	      "LOCAL_WRITE over PROT_READ is EFAULT");
	check(expect_is(find(rows, n, "hugetlb.r.LW+RR"), SW_REFUSED, EFAULT),
	      "writable MR over PROT_READ hugetlb is EFAULT");
	check(expect_is(find(rows, n, "anon_private.rw.RW"), SW_REFUSED, EINVAL),
	      "REMOTE_WRITE without LOCAL_WRITE is EINVAL even over writable memory");
	check(expect_is(find(rows, n, "memfd.none.RA"), SW_REFUSED, EINVAL),
	      "the verbs API check comes before the protection check");
	check(expect_is(find(rows, n, "thp.none.RR"), SW_REFUSED, EFAULT),
	      "PROT_NONE never registers, even read-only");
	check(expect_is(find(rows, n, "file_shared_rw.rw.LW+RR+RW+RA"), SW_REGISTERED, 0),
	      "every access over PROT_READ|PROT_WRITE registers");
	check(expect_is(find(rows, n, "edge.zero_len.anon_private.RR"), SW_REFUSED, EINVAL),
	      "zero length is EINVAL");
	check(expect_is(find(rows, n, "edge.two_vmas_rw_r.anon_private.LW+RR"), SW_REFUSED, EFAULT),
	      "writable MR across a PROT_READ VMA is EFAULT");
	check(expect_is(find(rows, n, "edge.two_vmas_r_rw.anon_private.RR"), SW_REGISTERED, 0),
	      "read-only MR across two readable VMAs registers");
	check(expect_is(find(rows, n, "edge.hole.anon_private.RR"), SW_REFUSED, EFAULT),
	      "a hole is EFAULT");
	check(expect_is(find(rows, n, "edge.rereg_ro_rw.anon_private.RR.r"),
			SW_REFUSED_OR_REPINNED, 0), "rereg RO->RW: refused or re-pinned");
	check(expect_is(find(rows, n, "edge.dereg_after_munmap.file_private.RR"), SW_REGISTERED, 0),
	      "dereg after munmap registers first");


	printf("1..%d\n%d passed, %d failed\n", nchecks, nchecks - nfail, nfail);
	return nfail ? 1 : 0;
}
