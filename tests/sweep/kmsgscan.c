// SPDX-License-Identifier: GPL-2.0
/*
 * kmsgscan.c - count new kernel WARNING/BUG/KASAN/lockdep lines in /dev/kmsg.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kmsgscan.h"

static const char *const issue_markers[] = {
	"WARNING:", "BUG:", "KASAN:", "UBSAN:", "Oops", "general protection fault",
	"possible circular locking dependency", "possible recursive locking",
	"inconsistent lock state", "lockdep", "INFO: task", "Kernel panic", "kernel BUG at",
	"refcount_t:", "list_add corruption", "list_del corruption",
};

int sw_kmsg_is_issue(const char *msg)
{
	size_t i;

	for (i = 0; i < sizeof(issue_markers) / sizeof(issue_markers[0]); i++)
		if (strstr(msg, issue_markers[i]))
			return 1;
	return 0;
}

int sw_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (lseek(fd, 0, SEEK_END) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int sw_kmsg_scan(int fd, char *first, size_t len)
{
	char rec[8192];
	int issues = 0;

	if (first && len)
		first[0] = '\0';
	if (fd < 0)
		return 0;
	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		char *msg, *nl;

		if (n < 0) {
			if (errno == EPIPE) /* records were overwritten: keep reading */
				continue;
			break;              /* EAGAIN: nothing more */
		}
		if (n == 0)
			break;
		rec[n] = '\0';
		/* "prio,seq,usec,flags;message\n" followed by continuation lines " KEY=value" */
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		if (!sw_kmsg_is_issue(msg))
			continue;
		if (!issues && first && len)
			snprintf(first, len, "%s", msg);
		issues++;
	}
	return issues;
}
