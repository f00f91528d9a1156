/* SPDX-License-Identifier: GPL-2.0 */
/*
 * devices.h - the RDMA devices present (libibverbs' device list). Fork-safe: it opens no
 * device, so a parent may list devices and fork case children that open the transport.
 */
#ifndef RDMAPIN_DEVICES_H
#define RDMAPIN_DEVICES_H

#include <infiniband/verbs.h>

/*
 * rp_list_devices - names of the RDMA devices present.
 * Fills names[0..n-1] (at most max, each at most IBV_SYSFS_NAME_MAX bytes) and returns n >= 0
 * (0 also when the kernel has no RDMA at all), or a negative errno.
 */
int rp_list_devices(char names[][IBV_SYSFS_NAME_MAX], int max);

#endif /* RDMAPIN_DEVICES_H */
