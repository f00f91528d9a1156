// SPDX-License-Identifier: GPL-2.0
/* tp_common.c - what both ends of the transport share; see tp_common.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tp_common.h"
#include "transport.h"

static __thread char tp_step_buf[192];
static pid_t tp_owner; /* the process that first used librdmacm through us */

const char *tp_stepf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tp_step_buf, sizeof(tp_step_buf), fmt, ap);
	va_end(ap);
	return tp_step_buf;
}

int tp_errno(void)
{
	return errno ? -errno : -EIO;
}

/*
 * librdmacm caches device contexts for the life of the process. A child forked after they were
 * opened inherits their uverbs file descriptors, and the kernel refuses write() commands (post
 * send doorbells, ...) on a file opened under other credentials (EACCES): refuse early instead.
 */
int tp_check_owner(const char **step)
{
	pid_t me = getpid();

	if (!tp_owner)
		tp_owner = me;
	if (tp_owner == me)
		return 0;
	*step = tp_stepf("librdmacm was first used by pid %d, this is its forked child %d: open transports only in the process that uses them",
			 (int)tp_owner, (int)me);
	return -ECHILD;
}

/* Bind a scratch cm_id to addr: does it land on the device want (NULL: any)? */
static int tp_addr_is_on(struct rdma_event_channel *ech, struct sockaddr_in *addr,
			 const char *want, char name[IBV_SYSFS_NAME_MAX], const char **step)
{
	struct rdma_cm_id *id;
	const char *dev;
	bool found = false;

	if (rdma_create_id(ech, &id, NULL, RDMA_PS_TCP)) {
		*step = "rdma_create_id";
		return -errno;
	}
	if (!rdma_bind_addr(id, (struct sockaddr *)addr) && id->verbs) {
		dev = ibv_get_device_name(id->verbs->device);
		if (!want || !strcmp(dev, want)) {
			snprintf(name, IBV_SYSFS_NAME_MAX, "%s", dev);
			found = true;
		}
	}
	rdma_destroy_id(id);
	return found;
}

int tp_find_addr(struct rdma_event_channel *ech, const char *want, struct sockaddr_in *out,
		 char name[IBV_SYSFS_NAME_MAX], const char **step)
{
	struct ifaddrs *ifa, *i;
	int pass, r = 0;

	if (getifaddrs(&ifa)) {
		*step = "getifaddrs";
		return -errno;
	}
	/* loopback addresses last: binding 127.0.0.1 picks any device, not the one on lo */
	for (pass = 0; pass < 2 && !r; pass++) {
		for (i = ifa; i && !r; i = i->ifa_next) {
			if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
			    !(i->ifa_flags & IFF_UP) || !!(i->ifa_flags & IFF_LOOPBACK) != pass)
				continue;
			memcpy(out, i->ifa_addr, sizeof(*out));
			out->sin_port = 0;
			r = tp_addr_is_on(ech, out, want, name, step);
		}
	}
	freeifaddrs(ifa);
	if (r < 0)
		return r;
	if (r)
		return 0;
	*step = want ? tp_stepf("%s: no IPv4 address on its netdev", want) :
		       "no RDMA device with an IPv4 address";
	return -ENODEV;
}

/* in transport.h: the address where loopback connects and the agent listens */
int rp_tp_device_addr(const char *device, char *host, size_t len, const char **step)
{
	struct rdma_event_channel *ech;
	struct sockaddr_in sin;
	char name[IBV_SYSFS_NAME_MAX];
	int r;

	r = tp_check_owner(step);
	if (r)
		return r;
	ech = rdma_create_event_channel();
	if (!ech) {
		*step = "rdma_create_event_channel";
		return tp_errno();
	}
	r = tp_find_addr(ech, device, &sin, name, step);
	if (!r && !inet_ntop(AF_INET, &sin.sin_addr, host, (socklen_t)len)) {
		*step = "inet_ntop";
		r = -errno;
	}
	rdma_destroy_event_channel(ech);
	return r;
}

void tp_conn_params(struct rdma_conn_param *p)
{
	memset(p, 0, sizeof(*p));
	/* one READ in flight each way: iWARP refuses RDMA READ without these */
	p->initiator_depth = 1;
	p->responder_resources = 1;
	p->retry_count = 7;
	p->rnr_retry_count = 7;
}

void tp_qp_attr(struct ibv_qp_init_attr *a, struct ibv_cq *cq, void *ctx)
{
	memset(a, 0, sizeof(*a));
	a->qp_context = ctx;
	a->send_cq = cq;
	a->recv_cq = cq;
	a->qp_type = IBV_QPT_RC;
	a->cap.max_send_wr = 4;
	a->cap.max_recv_wr = 4;
	a->cap.max_send_sge = 1;
	a->cap.max_recv_sge = 1;
}

int tp_map(size_t len, void **p)
{
	*p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*p == MAP_FAILED) {
		*p = NULL;
		return -errno;
	}
	return 0;
}
