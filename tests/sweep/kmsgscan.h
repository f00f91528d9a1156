/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmsgscan.h - watch /dev/kmsg for new kernel WARNING/BUG/KASAN/lockdep lines.
 *
 * sw_kmsg_open() positions at the end of the log; each sw_kmsg_scan() reads what was logged
 * since the previous call and counts the lines that report a kernel problem. Nothing prints.
 */
#ifndef SWEEP_KMSGSCAN_H
#define SWEEP_KMSGSCAN_H

#include <stddef.h>

/* Returns an fd, or a negative errno (no /dev/kmsg, not readable). */
int sw_kmsg_open(void);

/* Count new problem lines; the first one is copied into first (may be NULL). */
int sw_kmsg_scan(int fd, char *first, size_t len);

/* Whether one kernel log message reports a problem (exposed for the unit test). */
int sw_kmsg_is_issue(const char *msg);

#endif /* SWEEP_KMSGSCAN_H */
