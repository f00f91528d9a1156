// SPDX-License-Identifier: GPL-2.0
/* errname.c - errno names; see errname.h. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "errname.h"

const char *rp_errname(int err)
{
	static __thread char buf[24];
	const char *name;

	if (err < 0)
		err = -err;
	if (!err)
		return "";
	name = strerrorname_np(err);
	if (name)
		return name;
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}
