/* SPDX-License-Identifier: GPL-2.0 */
/*
 * map_int.h - what the parts of the backing module share (mapping.c, mapfile.c, mapshare.c,
 * mapcheck.c); not for callers, who include mapping.h. Functions return 0 or a negative errno
 * and say why in why (whylen bytes).
 */
#ifndef RDMAPIN_MAP_INT_H
#define RDMAPIN_MAP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "mapping.h"

/* mapfile.c: the file behind a file kind; m->wfd gets an O_RDWR fd, m->fd the fd to map */

/* a temporary file in dir (unlinked at once) or a memfd holding the step-0 pattern; the fd to
 * map is O_RDONLY unless rw_map (a memfd's is always O_RDWR) */
int rp_mapfile_make(struct rp_map *m, const char *dir, bool memfd, bool rw_map, uint64_t seed,
		    char *why, size_t whylen);

/* a hugetlbfs memfd of m->len bytes holding the step-0 pattern */
int rp_mapfile_hugetlb(struct rp_map *m, uint64_t seed, char *why, size_t whylen);

/* a directory on a tmpfs that gives files THPs; *mounted: detach it (umount2 + rmdir) once the
 * file is open */
int rp_mapfile_huge_dir(char *dir, size_t len, bool *mounted, char *why, size_t whylen);

/* is dir on a tmpfs? */
bool rp_mapfile_on_tmpfs(const char *dir);

/* mapshare.c: pages shared with someone else */

/* fork a child that keeps the mapping's pages COW-shared until rp_map_destroy() (at most
 * timeout_ms) */
int rp_mapshare_fork(struct rp_map *m, int timeout_ms);

/* merge the identical pages of m with KSM and wait (bounded) until they are one KSM page */
int rp_mapshare_ksm(struct rp_map *m, int timeout_ms, char *why, size_t whylen);

#endif /* RDMAPIN_MAP_INT_H */
