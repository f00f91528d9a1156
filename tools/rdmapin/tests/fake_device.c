// SPDX-License-Identifier: GPL-2.0
/*
 * fake_device.c - an LD_PRELOAD shim for host tests of what rdmapin does with a device it
 * cannot run: libibverbs lists one device, "fake0" (no context can be opened on it), and
 * calloc() of the per-device result array fails (ENOMEM), the early failure of
 * rp_run_device(). Only the sizes of struct rp_result are refused; every other allocation
 * goes to glibc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <infiniband/verbs.h>

#include "cases.h"

extern void *__libc_calloc(size_t nmemb, size_t size);

static struct ibv_device *fake_list[2] = { (struct ibv_device *)&fake_list, NULL };

struct ibv_device **ibv_get_device_list(int *num_devices)
{
	if (num_devices)
		*num_devices = 1;
	return fake_list;
}

void ibv_free_device_list(struct ibv_device **list)
{
	(void)list;
}

const char *ibv_get_device_name(struct ibv_device *device)
{
	(void)device;
	return "fake0";
}

void *calloc(size_t nmemb, size_t size)
{
	if (size == sizeof(struct rp_result)) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_calloc(nmemb, size);
}
