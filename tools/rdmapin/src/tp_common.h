/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tp_common.h - what both ends of rdmapin's transport share (transport.c, the loopback and
 * remote client; agent.c, the --server reader agent): the step strings of errors, the fork
 * rule, finding a device's IPv4 address (also rp_tp_device_addr() of transport.h), and the
 * shape of the RC connection both ends make. Internal to the transport: callers use
 * transport.h and agent.h.
 */
#ifndef RDMAPIN_TP_COMMON_H
#define RDMAPIN_TP_COMMON_H

#include <stddef.h>
#include <netinet/in.h>
#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

/*
 * tp_stepf - format a step string into a thread-local buffer (valid until the next call of the
 * same thread) and return it: the *step of transport.h.
 */
const char *tp_stepf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* tp_errno - -errno of a failed call, never 0 (a library that forgot to set errno still fails) */
int tp_errno(void);

/*
 * tp_check_owner - 0 in the process that first used librdmacm through the transport, -ECHILD
 * (and *step says why) in a child forked after that: see "Fork" in transport.h.
 */
int tp_check_owner(const char **step);

/*
 * tp_find_addr - the IPv4 address whose netdev carries the RDMA device want (NULL: any device)
 * into *out (port 0) and the device's name into name. Scratch cm_ids on ech. 0, -ENODEV or -errno.
 */
int tp_find_addr(struct rdma_event_channel *ech, const char *want, struct sockaddr_in *out,
		 char name[IBV_SYSFS_NAME_MAX], const char **step);

/* tp_conn_params - connection parameters of both ends: one RDMA READ in flight each way. */
void tp_conn_params(struct rdma_conn_param *p);

/* tp_qp_attr - an RC QP on cq for sends and receives, 4 work requests deep each way. */
void tp_qp_attr(struct ibv_qp_init_attr *a, struct ibv_cq *cq, void *ctx);

/* tp_map - len bytes of private anonymous memory (a READ sink or message buffer); 0 or -errno. */
int tp_map(size_t len, void **p);

#endif /* RDMAPIN_TP_COMMON_H */
