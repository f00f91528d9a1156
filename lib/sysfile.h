/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sysfile.h - read or write one small /sys or /proc file (a knob such as
 * transparent_hugepage/enabled or ksm/run). Return 0 or a negative errno; nothing prints.
 */
#ifndef RDMAPIN_SYSFILE_H
#define RDMAPIN_SYSFILE_H

#include <stddef.h>

/* rp_sysfile_read - at most len - 1 bytes of path into buf, NUL-terminated. */
int rp_sysfile_read(const char *path, char *buf, size_t len);

/* rp_sysfile_write - write val to path. */
int rp_sysfile_write(const char *path, const char *val);

#endif /* RDMAPIN_SYSFILE_H */
