/* SPDX-License-Identifier: GPL-2.0 */
/*
 * uffd.h - the userfaultfd write-protect fault counter: write-protect a range, count (and
 * resolve) every WP fault on it, kernel faults included (GUP from ib_umem_get is seen).
 * Functions return 0 or a negative errno; nothing prints.
 */
#ifndef RDMAPIN_UFFD_H
#define RDMAPIN_UFFD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * The uffd-wp counter. rp_uffd_wp_arm() opens a userfaultfd (kernel faults included, so GUP
 * from ib_umem_get is seen), registers [addr, addr+len) in write-protect mode, write-protects
 * it and starts a handler thread that counts every WP fault and resolves it by
 * un-write-protecting the faulting base page (and zero-fills any missing fault). The thread
 * polls with a short timeout, so rp_uffd_wp_disarm() always returns promptly.
 */
struct rp_uffd_wp {
	int uffd;
	void *addr;
	size_t len;
	size_t resolve;           /* the handler un-protects this much around a fault */
	size_t nunits;            /* len / resolve */
	atomic_uint *faults;      /* WP faults per resolve unit, shared with the handler thread
				   * and read by the caller (NULL: not counted per unit) */
	pthread_t thread;
	bool running;
	/* shared with the handler thread */
	atomic_bool stop;
	atomic_long wp_events;
	atomic_long missing_events;
	atomic_int handler_err;   /* negative errno of a failed resolve ioctl, 0 if none */
};

#define RP_UFFD_WP_INIT { .uffd = -1 }

/* rp_uffd_wp_supported - 0 when uffd-wp on anonymous memory is available, else -errno + why. */
int rp_uffd_wp_supported(char *why, size_t whylen);

int rp_uffd_wp_arm(struct rp_uffd_wp *u, void *addr, size_t len, const char **step);

/*
 * rp_uffd_wp_arm_marked - as rp_uffd_wp_arm(), but write-protect only the even-numbered
 * mark_unit-sized pieces of the range (mark_unit >= len: all of it), resolve faults in
 * resolve-sized units (2 MiB for hugetlb, where UFFDIO_WRITEPROTECT needs huge-page ranges)
 * and count the WP faults per resolve unit in u->faults.
 */
int rp_uffd_wp_arm_marked(struct rp_uffd_wp *u, void *addr, size_t len, size_t mark_unit,
			  size_t resolve, const char **step);

/* rp_marked - is the 4 KiB page at byte offset off marked when every even mark_unit is? */
static inline bool rp_marked(size_t off, size_t mark_unit)
{
	return !((off / mark_unit) & 1);
}
long rp_uffd_wp_events(const struct rp_uffd_wp *u);
void rp_uffd_wp_disarm(struct rp_uffd_wp *u);

#endif /* RDMAPIN_UFFD_H */
