/* SPDX-License-Identifier: GPL-2.0 */
/*
 * memlock.h - raise RLIMIT_MEMLOCK before registering memory (siw enforces it even for root).
 */
#ifndef RDMAPIN_MEMLOCK_H
#define RDMAPIN_MEMLOCK_H

#include <stddef.h>

/*
 * rp_memlock_raise - raise RLIMIT_MEMLOCK to unlimited if privileged, else the soft limit to
 * the hard one. Returns 0 when the soft limit afterwards is unlimited or at least need bytes,
 * -ENOMEM when it is lower (then *limit, if not NULL, holds it in bytes), or -errno of
 * getrlimit(). need 0: just raise, never -ENOMEM. Fork-safe (no allocation, no locks).
 */
int rp_memlock_raise(size_t need, unsigned long long *limit);

#endif /* RDMAPIN_MEMLOCK_H */
