// SPDX-License-Identifier: GPL-2.0
/*
 * rows.c - generate the sweep's rows and compute each row's expectation on a fixed kernel.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <infiniband/verbs.h>

#include "rows.h"

static const char *const kind_names[SW_NKINDS] = {
	[SW_ANON_PRIVATE] = "anon_private",
	[SW_ANON_SHARED] = "anon_shared",
	[SW_FILE_PRIVATE] = "file_private",
	[SW_FILE_SHARED_RO] = "file_shared_ro",
	[SW_FILE_SHARED_RW] = "file_shared_rw",
	[SW_MEMFD] = "memfd",
	[SW_THP] = "thp",
	[SW_HUGETLB] = "hugetlb",
};

static const char *const prot_names[SW_NPROTS] = {
	[SW_PROT_RW] = "rw", [SW_PROT_R] = "r", [SW_PROT_NONE] = "none",
};

static const char *const edge_names[SW_NEDGES] = {
	[SW_PLAIN] = "plain",
	[SW_ZERO_LEN] = "zero_len",
	[SW_UNALIGNED] = "unaligned",
	[SW_TWO_VMAS_RW_R] = "two_vmas_rw_r",
	[SW_TWO_VMAS_R_RW] = "two_vmas_r_rw",
	[SW_HOLE] = "hole",
	[SW_REREG_RO_RW] = "rereg_ro_rw",
	[SW_DEREG_AFTER_MUNMAP] = "dereg_after_munmap",
};

static const struct {
	int bit;
	const char *name;
	const char *brief;
} access_bits[] = {
	{ IBV_ACCESS_LOCAL_WRITE, "LOCAL_WRITE", "LW" },
	{ IBV_ACCESS_REMOTE_READ, "REMOTE_READ", "RR" },
	{ IBV_ACCESS_REMOTE_WRITE, "REMOTE_WRITE", "RW" },
	{ IBV_ACCESS_REMOTE_ATOMIC, "REMOTE_ATOMIC", "RA" },
};

const char *sw_kind_name(enum sw_kind k) { return kind_names[k]; }
const char *sw_prot_name(enum sw_prot p) { return prot_names[p]; }
const char *sw_edge_name(enum sw_edge e) { return edge_names[e]; }

const char *sw_outcome_name(enum sw_outcome o)
{
	switch (o) {
	case SW_REGISTERED: return "REGISTERED";
	case SW_REFUSED: return "REFUSED";
	default: return "REFUSED|REPINNED";
	}
}

static const char *access_join(int access, char *buf, bool brief, const char *sep,
			       const char *zero)
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < sizeof(access_bits) / sizeof(access_bits[0]); i++) {
		if (!(access & access_bits[i].bit))
			continue;
		if (buf[0])
			strcat(buf, sep);
		strcat(buf, brief ? access_bits[i].brief : access_bits[i].name);
	}
	if (!buf[0])
		strcpy(buf, zero);
	return buf;
}

const char *sw_access_str(int access, char *buf)
{
	return access_join(access, buf, false, "|", "none");
}

const char *sw_access_short(int access, char *buf)
{
	return access_join(access, buf, true, "+", "0");
}

int sw_prot_bits(enum sw_prot p)
{
	switch (p) {
	case SW_PROT_RW: return PROT_READ | PROT_WRITE;
	case SW_PROT_R: return PROT_READ;
	default: return PROT_NONE;
	}
}

bool sw_access_writable(int access)
{
	/* ib_access_writable() without MW_BIND, which the sweep does not use */
	return access & (IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
			 IBV_ACCESS_REMOTE_ATOMIC);
}

bool sw_creatable(enum sw_kind k, enum sw_prot p, const char **why)
{
	if (k == SW_FILE_SHARED_RO && p == SW_PROT_RW) {
		if (why)
			*why = "mmap(PROT_WRITE, MAP_SHARED) of an O_RDONLY fd is EACCES";
		return false;
	}
	return true;
}

static void set(struct sw_row *row, enum sw_outcome o, int err, const char *rule)
{
	row->expect = o;
	row->expect_errno = err;
	row->rule = rule;
}

/*
 * The rules of a fixed kernel, in the order the kernel applies them: ib_check_mr_access() runs
 * before any page is pinned, then GUP checks the VMAs (check_vma_flags()) page range by page range.
 */
void sw_expect(struct sw_row *row)
{
	int a = row->access;
	bool writable = sw_access_writable(a);

	if ((a & (IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_ATOMIC)) &&
	    !(a & IBV_ACCESS_LOCAL_WRITE)) {
		set(row, SW_REFUSED, EINVAL,
		    "REMOTE_WRITE/REMOTE_ATOMIC without LOCAL_WRITE is EINVAL (verbs API)");
		return;
	}

	switch (row->edge) {
	case SW_ZERO_LEN:
		set(row, SW_REFUSED, EINVAL, "a zero-length MR has no pages: EINVAL");
		return;
	case SW_HOLE:
		set(row, SW_REFUSED, EFAULT, "a range over an unmapped hole never registers");
		return;
	case SW_TWO_VMAS_RW_R:
	case SW_TWO_VMAS_R_RW:
		if (writable)
			set(row, SW_REFUSED, EFAULT,
			    "writable MR needs PROT_WRITE on every VMA of the range");
		else
			set(row, SW_REGISTERED, 0,
			    "read-only MR registers over readable VMAs of any protection");
		return;
	case SW_REREG_RO_RW:
		set(row, SW_REFUSED_OR_REPINNED, 0,
		    "rereg to writable: refused, or re-pinned over writable memory; never a "
		    "writable MR over read-only pages");
		return;
	case SW_DEREG_AFTER_MUNMAP:
	case SW_UNALIGNED:
	case SW_PLAIN:
	default:
		break;
	}

	if (row->prot == SW_PROT_NONE)
		set(row, SW_REFUSED, EFAULT, "PROT_NONE never registers");
	else if (writable && row->prot != SW_PROT_RW)
		set(row, SW_REFUSED, EFAULT, "writable MR needs PROT_WRITE");
	else if (writable)
		set(row, SW_REGISTERED, 0, "writable MR over writable memory");
	else
		set(row, SW_REGISTERED, 0, "read-only MR registers over any readable memory");
}

static struct sw_row *add(struct sw_row *rows, int *n, int max, enum sw_edge e, enum sw_kind k,
			  enum sw_prot p, int access, const char *suffix)
{
	struct sw_row *r;
	char abuf[64];

	if (*n >= max)
		return NULL;
	r = &rows[(*n)++];
	memset(r, 0, sizeof(*r));
	r->edge = e;
	r->kind = k;
	r->prot = p;
	r->access = access;
	if (e == SW_PLAIN)
		snprintf(r->name, sizeof(r->name), "%s.%s.%s", kind_names[k], prot_names[p],
			 sw_access_short(access, abuf));
	else
		snprintf(r->name, sizeof(r->name), "edge.%s.%s.%s%s", edge_names[e], kind_names[k],
			 sw_access_short(access, abuf), suffix ? suffix : "");
	return r;
}

int sw_rows_build(struct sw_row *rows, int max, int *not_rows)
{
	const int lw = IBV_ACCESS_LOCAL_WRITE, rr = IBV_ACCESS_REMOTE_READ;
	const int rw_all = lw | rr | IBV_ACCESS_REMOTE_WRITE;
	int n = 0, k, p, a, i;
	struct sw_row *r;

	*not_rows = 0;
	for (k = 0; k < SW_NKINDS; k++)
		for (p = 0; p < SW_NPROTS; p++) {
			if (!sw_creatable(k, p, NULL)) {
				*not_rows += 16;
				continue;
			}
			for (a = 0; a < 16; a++) {
				int access = 0;

				for (i = 0; i < 4; i++)
					if (a & (1 << i))
						access |= access_bits[i].bit;
				add(rows, &n, max, SW_PLAIN, k, p, access, NULL);
			}
		}

	/* edge rows: each with a read-only and a writable access */
	add(rows, &n, max, SW_ZERO_LEN, SW_ANON_PRIVATE, SW_PROT_RW, rr, NULL);
	add(rows, &n, max, SW_ZERO_LEN, SW_ANON_PRIVATE, SW_PROT_RW, lw | rr, NULL);
	add(rows, &n, max, SW_UNALIGNED, SW_ANON_PRIVATE, SW_PROT_RW, rr, NULL);
	add(rows, &n, max, SW_UNALIGNED, SW_ANON_PRIVATE, SW_PROT_RW, lw | rr, NULL);
	add(rows, &n, max, SW_UNALIGNED, SW_FILE_PRIVATE, SW_PROT_R, rr, NULL);
	add(rows, &n, max, SW_TWO_VMAS_RW_R, SW_ANON_PRIVATE, SW_PROT_RW, rr, NULL);
	add(rows, &n, max, SW_TWO_VMAS_RW_R, SW_ANON_PRIVATE, SW_PROT_RW, lw | rr, NULL);
	add(rows, &n, max, SW_TWO_VMAS_R_RW, SW_ANON_PRIVATE, SW_PROT_RW, rr, NULL);
	add(rows, &n, max, SW_TWO_VMAS_R_RW, SW_ANON_PRIVATE, SW_PROT_RW, lw | rr, NULL);
	add(rows, &n, max, SW_TWO_VMAS_RW_R, SW_FILE_SHARED_RW, SW_PROT_RW, rr, NULL);
	add(rows, &n, max, SW_TWO_VMAS_RW_R, SW_FILE_SHARED_RW, SW_PROT_RW, lw | rr, NULL);
	add(rows, &n, max, SW_HOLE, SW_ANON_PRIVATE, SW_PROT_RW, rr, NULL);
	add(rows, &n, max, SW_HOLE, SW_ANON_PRIVATE, SW_PROT_RW, lw | rr, NULL);
	/* rereg read-only -> writable, over read-only and over writable memory */
	r = add(rows, &n, max, SW_REREG_RO_RW, SW_ANON_PRIVATE, SW_PROT_R, rr, ".r");
	if (r)
		r->rereg_access = rw_all;
	r = add(rows, &n, max, SW_REREG_RO_RW, SW_FILE_PRIVATE, SW_PROT_R, rr, ".r");
	if (r)
		r->rereg_access = rw_all;
	r = add(rows, &n, max, SW_REREG_RO_RW, SW_ANON_PRIVATE, SW_PROT_RW, rr, ".rw");
	if (r)
		r->rereg_access = rw_all;
	r = add(rows, &n, max, SW_REREG_RO_RW, SW_FILE_PRIVATE, SW_PROT_RW, rr, ".rw");
	if (r)
		r->rereg_access = rw_all;
	add(rows, &n, max, SW_DEREG_AFTER_MUNMAP, SW_ANON_PRIVATE, SW_PROT_RW, rr, NULL);
	add(rows, &n, max, SW_DEREG_AFTER_MUNMAP, SW_ANON_PRIVATE, SW_PROT_RW, lw | rr, NULL);
	add(rows, &n, max, SW_DEREG_AFTER_MUNMAP, SW_FILE_PRIVATE, SW_PROT_R, rr, NULL);
	add(rows, &n, max, SW_DEREG_AFTER_MUNMAP, SW_FILE_SHARED_RW, SW_PROT_RW, lw | rr, NULL);

	for (i = 0; i < n; i++)
		sw_expect(&rows[i]);
	return n;
}
