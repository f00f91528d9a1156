/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmsg.h - watch the kernel log during a case: remember the /dev/kmsg position at the start,
 * and afterwards count the new records that report a kernel problem (WARNING:, BUG:, KASAN,
 * lockdep splats). A case with such a record fails. Without /dev/kmsg access the watch is n/a.
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

/* rp_kmsg_is_issue - does a log message text report a kernel problem? */
int rp_kmsg_is_issue(const char *text);

void rp_kmsg_close(struct rp_kmsg *k);

#endif /* RDMAPIN_KMSG_H */
