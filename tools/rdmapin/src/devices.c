// SPDX-License-Identifier: GPL-2.0
/* devices.c - the RDMA devices present; see devices.h. */
#include <errno.h>
#include <stdio.h>

#include "devices.h"

int rp_list_devices(char names[][IBV_SYSFS_NAME_MAX], int max)
{
	struct ibv_device **list;
	int i, n;

	list = ibv_get_device_list(&n);
	if (!list) {
		if (errno == ENOSYS || errno == ENODEV)
			return 0;
		return errno ? -errno : -EIO;
	}
	for (i = 0; i < n && i < max; i++)
		snprintf(names[i], IBV_SYSFS_NAME_MAX, "%s", ibv_get_device_name(list[i]));
	ibv_free_device_list(list);
	return i;
}
