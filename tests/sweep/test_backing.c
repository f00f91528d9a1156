// SPDX-License-Identifier: GPL-2.0
/*
 * test_backing.c - host unit test of the sweep's backings (no RDMA): every row's memory is
 * built by lib's backing module the way the row says. The registered range has the row's
 * protection in /proc/self/maps (PROT_NONE included) and the right sharing (p/s), nothing is
 * faulted in before the registration, the edge shapes are there (a hole is unmapped, two VMAs
 * differ), and sw_map_unmap() unmaps. Only anonymous shared memory is populated (written)
 * first. Rows the host cannot make (no free huge page) are skipped with the reason. KTAP; exit 0 when every check holds, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <infiniband/verbs.h>

#include "backing.h"
#include "probe.h"
#include "rows.h"

static int nchecks, nfail;

static void check(int cond, const char *name, const char *what, const char *detail)
{
	nchecks++;
	nfail += !cond;
	printf("%sok %d %s.%s%s%s\n", cond ? "" : "not ", nchecks, name, what,
	       cond || !detail ? "" : " # ", cond || !detail ? "" : detail);
}

/* the permissions /proc/self/maps shows for addr ("r--p"), "----" if it is not mapped */
static void perms(const void *addr, char out[5])
{
	unsigned long a = (unsigned long)addr, lo, hi;
	char line[512], p[5];
	FILE *f = fopen("/proc/self/maps", "re");

	strcpy(out, "----");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, p) == 3 && a >= lo && a < hi) {
			memcpy(out, p, 5);
			break;
		}
	if (f)
		fclose(f);
}

static void want_perms(const struct sw_row *r, const void *addr, int prot, const char *what)
{
	const struct rp_backing_info *bi = rp_backing_info(sw_backing_kind(r->kind));
	char got[5], want[5];

	snprintf(want, sizeof(want), "%c%c-%c", prot & PROT_READ ? 'r' : '-',
		 prot & PROT_WRITE ? 'w' : '-', bi->flags & RP_BF_SHARED ? 's' : 'p');
	perms(addr, got);
	check(!strcmp(got, want), r->name, what, got);
}

static void check_row(const struct sw_row *r, const char *dir)
{
	size_t page = rp_page_size(), i, n;
	struct sw_map m;
	const char *why;
	uint64_t pm[4];
	int ret, present = 0;

	ret = sw_map_create(r, dir, &m, &why);
	if (ret == -EOPNOTSUPP || (r->kind == SW_HUGETLB && ret == -ENOMEM)) {
		printf("ok %d %s # SKIP %s\n", ++nchecks, r->name, why);
		sw_map_destroy(&m);
		return;
	}
	check(!ret, r->name, "create", why);
	if (ret) {
		sw_map_destroy(&m);
		return;
	}
	switch (r->edge) {
	case SW_HOLE: {
		char got[5];

		perms((char *)m.reg_addr + m.hole_off, got);
		check(!strcmp(got, "----"), r->name, "hole_unmapped", got);
		break;
	}
	case SW_TWO_VMAS_RW_R:
	case SW_TWO_VMAS_R_RW:
		want_perms(r, m.reg_addr, r->edge == SW_TWO_VMAS_RW_R ? PROT_READ | PROT_WRITE :
			   PROT_READ, "first_vma");
		want_perms(r, (char *)m.reg_addr + page, r->edge == SW_TWO_VMAS_RW_R ? PROT_READ :
			   PROT_READ | PROT_WRITE, "second_vma");
		break;
	case SW_ZERO_LEN:
		check(m.reg_len == 0, r->name, "zero_len", NULL);
		break;
	case SW_UNALIGNED:
		check((uintptr_t)m.reg_addr % page && m.reg_len % page, r->name, "unaligned", NULL);
		break;
	default:
		want_perms(r, m.reg_addr, sw_prot_bits(r->prot), "prot");
		if (r->kind == SW_THP || r->kind == SW_HUGETLB)
			check(!((uintptr_t)m.reg_addr % rp_map_page_size(sw_backing_kind(r->kind))),
			      r->name, "huge_aligned", NULL);
	}
	n = m.reg_len / page < 4 ? m.reg_len / page : 4;
	if (r->edge != SW_HOLE && n && !rp_pagemap_read(m.map.addr, n, pm)) {
		for (i = 0; i < n; i++)
			present += !!(pm[i] & RP_PM_PRESENT);
		if (r->kind == SW_ANON_SHARED)
			check(present == (int)n, r->name, "populated", NULL);
		else
			check(!present, r->name, "not_populated", NULL);
	}
	sw_map_unmap(&m);
	{
		char got[5];

		perms(m.map.addr, got);
		check(!strcmp(got, "----"), r->name, "unmapped", got);
	}
	sw_map_destroy(&m);
}

int main(void)
{
	static struct sw_row rows[SW_MAX_ROWS];
	int n, not_rows, i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("KTAP version 1\n");
	n = sw_rows_build(rows, SW_MAX_ROWS, &not_rows);
	for (i = 0; i < n; i++) {
		/* one access per kind x prot x edge is enough: the memory does not depend on it */
		if (i && rows[i].edge == rows[i - 1].edge && rows[i].kind == rows[i - 1].kind &&
		    rows[i].prot == rows[i - 1].prot)
			continue;
		check_row(&rows[i], "/tmp");
	}
	printf("1..%d\n# %d passed, %d failed\n", nchecks, nchecks - nfail, nfail);
	return nfail ? 1 : 0;
}
