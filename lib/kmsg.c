// SPDX-License-Identifier: GPL-2.0
/* kmsg.c - kernel log watch; see kmsg.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kmsg.h"

const char *rp_kmsg_match(const char *text)
{
	size_t i;

	for (i = 0; i < rp_kmsg_npatterns; i++)
		if (strstr(text, rp_kmsg_patterns[i]))
			return rp_kmsg_patterns[i];
	return NULL;
}

int rp_kmsg_is_issue(const char *text)
{
	return rp_kmsg_match(text) != NULL;
}

int rp_kmsg_open(struct rp_kmsg *k)
{
	k->fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (k->fd < 0)
		return -errno;
	rp_kmsg_mark(k);
	return 0;
}

void rp_kmsg_mark(struct rp_kmsg *k)
{
	if (k->fd >= 0)
		lseek(k->fd, 0, SEEK_END);
}

int rp_kmsg_count(struct rp_kmsg *k, char *first, size_t firstlen)
{
	char rec[8192];
	int n = 0;

	if (first && firstlen)
		first[0] = 0;
	if (k->fd < 0)
		return -1;
	for (;;) {
		ssize_t len = read(k->fd, rec, sizeof(rec) - 1);
		char *text, *nl;

		if (len < 0) {
			if (errno == EPIPE) /* records overwritten: keep reading */
				continue;
			break; /* EAGAIN: nothing more */
		}
		rec[len] = 0;
		/* "prio,seq,usec,flags;text\n continuation lines" */
		text = strchr(rec, ';');
		text = text ? text + 1 : rec;
		nl = strchr(text, '\n');
		if (nl)
			*nl = 0;
		if (rp_kmsg_is_issue(text)) {
			if (!n && first && firstlen)
				snprintf(first, firstlen, "%s", text);
			n++;
		}
	}
	return n;
}

void rp_kmsg_close(struct rp_kmsg *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
}
