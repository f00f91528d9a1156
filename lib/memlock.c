// SPDX-License-Identifier: GPL-2.0
/* memlock.c - RLIMIT_MEMLOCK; see memlock.h. */
#include <errno.h>
#include <sys/resource.h>

#include "memlock.h"

int rp_memlock_raise(size_t need, unsigned long long *limit)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_MEMLOCK, &rl))
		return -errno;
	if (rl.rlim_cur != RLIM_INFINITY) {
		struct rlimit inf = { RLIM_INFINITY, RLIM_INFINITY };

		if (setrlimit(RLIMIT_MEMLOCK, &inf)) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_MEMLOCK, &rl);
		}
		if (getrlimit(RLIMIT_MEMLOCK, &rl))
			return -errno;
	}
	if (limit)
		*limit = rl.rlim_cur == RLIM_INFINITY ? ~0ULL : (unsigned long long)rl.rlim_cur;
	if (rl.rlim_cur != RLIM_INFINITY && (unsigned long long)rl.rlim_cur < need)
		return -ENOMEM;
	return 0;
}
