// SPDX-License-Identifier: GPL-2.0
/*
 * backing.c - the memory of a sweep row: lib's backing kinds with the row's protection, then the
 * row's edge shape. Nothing is faulted in before the registration (file contents are written
 * with write()), but anonymous shared memory, which is written first as it always was.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "backing.h"

#define SW_PAGES 4

enum rp_backing sw_backing_kind(enum sw_kind k)
{
	static const enum rp_backing kinds[SW_NKINDS] = {
		[SW_ANON_PRIVATE] = RP_B_ANON_ZERO,
		[SW_ANON_SHARED] = RP_B_ANON_SHARED,
		[SW_FILE_PRIVATE] = RP_B_FILE_PRIVATE,
		[SW_FILE_SHARED_RO] = RP_B_FILE_SHARED_RO,
		[SW_FILE_SHARED_RW] = RP_B_FILE_SHARED_RW,
		[SW_MEMFD] = RP_B_MEMFD_SHARED,
		[SW_THP] = RP_B_THP_ZERO,
		[SW_HUGETLB] = RP_B_HUGETLB_PRIVATE,
	};

	return kinds[k];
}

/* the edge's shape on the mapping [b, b + len) */
static int shape(const struct sw_row *row, struct sw_map *m, const char **why)
{
	unsigned char *b = m->map.addr;
	size_t page = rp_page_size();

	m->reg_addr = b;
	m->reg_len = m->map.len;
	switch (row->edge) {
	case SW_ZERO_LEN:
		m->reg_len = 0;
		break;
	case SW_UNALIGNED:
		m->reg_addr = b + 100;
		m->reg_len = 2 * page + 50;
		break;
	case SW_TWO_VMAS_RW_R:
	case SW_TWO_VMAS_R_RW:
		if (mprotect(row->edge == SW_TWO_VMAS_RW_R ? b + page : b, page, PROT_READ)) {
			*why = "mprotect(second VMA)";
			return -errno;
		}
		break;
	case SW_HOLE:
		if (munmap(b + page, page)) {
			*why = "munmap(hole)";
			return -errno;
		}
		m->hole_off = page;
		break;
	default:
		break;
	}
	return 0;
}

int sw_map_create(const struct sw_row *row, const char *dir, struct sw_map *m, const char **why)
{
	enum rp_backing kind = sw_backing_kind(row->kind);
	struct rp_map_opt o = {
		.dir = dir, .set_prot = true, .prot = sw_prot_bits(row->prot),
		.unpopulated = row->kind != SW_ANON_SHARED,
	};
	size_t len = SW_PAGES * rp_page_size();
	int ret;

	memset(m, 0, sizeof(*m));
	*why = m->why;
	if (row->edge == SW_TWO_VMAS_RW_R || row->edge == SW_TWO_VMAS_R_RW)
		len = 2 * rp_page_size();
	else if (row->edge == SW_HOLE)
		len = 3 * rp_page_size();
	if (rp_backing_info(kind)->flags & (RP_BF_THP | RP_BF_HUGETLB))
		len = rp_map_page_size(kind);
	ret = rp_map_create_opt(&m->map, kind, len, 1, &o, 0, m->why, sizeof(m->why));
	return ret ? ret : shape(row, m, why);
}

void sw_map_unmap(struct sw_map *m)
{
	rp_map_unmap(&m->map);
}

void sw_map_destroy(struct sw_map *m)
{
	rp_map_destroy(&m->map);
}
