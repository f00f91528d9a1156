/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmsg.h - watch the kernel log during a case: remember the /dev/kmsg position at the start,
 * and afterwards count the new records that report a kernel problem. What a problem is, is the
 * project's one list, lib/kmsg-patterns.txt (WARNING:, BUG:, KASAN:, UBSAN:, Oops, lockdep,
 * refcount, list corruption, hung task, ...), compiled into rp_kmsg_patterns[] at build time.
 * A case with such a record fails. Without /dev/kmsg access the watch is n/a.
 */
#ifndef RDMAPIN_KMSG_H
#define RDMAPIN_KMSG_H

#include <stddef.h>

struct rp_kmsg {
	int fd; /* -1: not available */
};

/* rp_kmsg_open - open /dev/kmsg; 0 or -errno (then every count is n/a). */
int rp_kmsg_open(struct rp_kmsg *k);

/* rp_kmsg_mark - skip everything logged so far. */
void rp_kmsg_mark(struct rp_kmsg *k);

/*
 * rp_kmsg_count - number of new problem records since the mark (the first one's text in first),
 * or -1 when the log is not available.
 */
int rp_kmsg_count(struct rp_kmsg *k, char *first, size_t firstlen);

/* the fixed strings of lib/kmsg-patterns.txt, in its order (generated: kmsg_patterns.c) */
extern const char *const rp_kmsg_patterns[];
extern const size_t rp_kmsg_npatterns;

/* rp_kmsg_match - the first pattern found in a log message text, or NULL. */
const char *rp_kmsg_match(const char *text);

/* rp_kmsg_is_issue - does a log message text report a kernel problem? */
int rp_kmsg_is_issue(const char *text);

void rp_kmsg_close(struct rp_kmsg *k);

#endif /* RDMAPIN_KMSG_H */
