/* SPDX-License-Identifier: GPL-2.0 */
/*
 * backing.h - build the memory a sweep row registers: kind x protection x edge shape.
 *
 * The sweep needs shapes rdmapin's mapping kinds do not (shared mappings of O_RDONLY fds, the
 * PROT_NONE variant of every kind, two VMAs, holes), so it keeps its own small module.
 * Functions return 0 or a negative errno and set *why to the failing step; nothing prints.
 */
#ifndef SWEEP_BACKING_H
#define SWEEP_BACKING_H

#include <stddef.h>
#include "rows.h"

struct sw_map {
	void *base;     /* the whole mapping (for munmap) */
	size_t len;
	void *reg_addr; /* what ibv_reg_mr gets */
	size_t reg_len;
	size_t hole_off; /* SW_HOLE: offset of the unmapped page; else 0 */
	int fd;         /* backing fd or -1 */
	char path[256]; /* backing file, removed by sw_map_destroy() */
};

/*
 * sw_map_create - build the backing of row in m; file kinds live in dir. Returns 0, or a
 * negative errno: -ENOMEM/-EINVAL from a MAP_HUGETLB mmap means no huge pages are available
 * (the caller skips the row), anything else is an error.
 */
int sw_map_create(const struct sw_row *row, const char *dir, struct sw_map *m, const char **why);

/* sw_map_unmap - munmap the whole range now (for dereg after munmap); idempotent. */
void sw_map_unmap(struct sw_map *m);

/* sw_map_destroy - unmap, close, unlink; safe on a zeroed or half-built map. */
void sw_map_destroy(struct sw_map *m);

/* sw_pfn - PFN backing addr from /proc/self/pagemap: >0, 0 if not present, negative errno. */
long long sw_pfn(const void *addr);

#endif /* SWEEP_BACKING_H */
