/* SPDX-License-Identifier: GPL-2.0 */
/*
 * backing.h - the memory a sweep row registers: the row's kind x protection, made by lib's
 * backing module (mapping.h), then shaped by the row's edge (zero length, unaligned, two VMAs,
 * a hole). Functions return 0 or a negative errno and set *why to what failed; nothing prints.
 */
#ifndef SWEEP_BACKING_H
#define SWEEP_BACKING_H

#include <stddef.h>

#include "mapping.h"
#include "rows.h"

struct sw_map {
	struct rp_map map; /* the backing (lib/mapping.h) */
	void *reg_addr;    /* what ibv_reg_mr gets */
	size_t reg_len;
	size_t hole_off;   /* SW_HOLE: offset of the unmapped page; else 0 */
	char why[160];     /* what failed, for *why */
};

/* sw_backing_kind - the lib backing kind of a sweep kind. */
enum rp_backing sw_backing_kind(enum sw_kind k);

/*
 * sw_map_create - build the backing of row in m; file kinds live in dir. Returns 0, or a
 * negative errno: -EOPNOTSUPP or -ENOMEM means this machine cannot provide the kind (no huge
 * page free, no THP; the caller skips the row), anything else is an error.
 */
int sw_map_create(const struct sw_row *row, const char *dir, struct sw_map *m, const char **why);

/* sw_map_unmap - munmap the whole range now (for dereg after munmap); idempotent. */
void sw_map_unmap(struct sw_map *m);

/* sw_map_destroy - unmap, close; safe after any sw_map_create(), a failed one included. */
void sw_map_destroy(struct sw_map *m);

#endif /* SWEEP_BACKING_H */
