// SPDX-License-Identifier: GPL-2.0
/*
 * transport.c - the verbs transport of rdmapin: librdmacm RC connections, MR registration on the
 * target side and bounded RDMA READs by the reader side, in loopback (both ends in this process)
 * or against a reader agent (rp_tp_serve()) in another process, namespace or host.
 *
 * Loopback: a listener cm_id bound to the device's IPv4 address (found by binding a scratch cm_id
 * to each local address until one lands on the device) anchors the device; the reader (active)
 * cm_id connects to it and the target (passive) cm_id comes out of the CONNECT_REQUEST. Both QPs
 * share one PD and one CQ; one thread drives both sides through one non-blocking event channel.
 *
 * Remote: this process is the target. It connects to the agent, and for each read it SENDs a
 * struct rp_tp_wire request {addr, rkey, len, mirror addr, mirror rkey}; the agent RDMA READs the
 * MR into its buffer, RDMA WRITEs that into the mirror and SENDs a reply with a status. RC
 * ordering places the WRITE before the reply completes here, so the mirror then holds what the
 * agent read.
 *
 * iWARP (siw) needs the CM for every connection, an initiator depth and responder resources in
 * rdma_conn_param for RDMA READ, and the active side to send first: in both modes the active
 * side is the one that starts (the reader's READ, the target's request).
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <poll.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <rdma/rdma_cma.h>

#include "memlock.h"
#include "transport.h"

#define RP_TP_WIRE_MAGIC 0x72647069u /* "rdpi" */
#define RP_TP_OP_READ 1
#define RP_TP_OP_REPLY 2
#define RP_TP_AGENT_SLOTS 8
#define RP_TP_STOP_POLL_MS 200
#define RP_TP_AGENT_IDLE_TIMEOUTS 60 /* an agent connection idle this many timeouts is dropped */

/* wr_id: sequence number << 2 | kind, so completions of an earlier connection are told apart */
enum { WR_READ = 0, WR_SEND = 1, WR_RECV = 2, WR_WRITE = 3 };

/* One request or reply on the wire, all fields big endian. */
struct rp_tp_wire {
	uint32_t magic;
	uint32_t op;
	uint64_t addr;
	uint64_t mirror_addr;
	uint32_t rkey;
	uint32_t mirror_rkey;
	uint32_t len;
	int32_t status;     /* reply: 0 or -errno */
	uint32_t wc_status; /* reply: enum ibv_wc_status of the agent's READ */
	uint32_t pad;
};
_Static_assert(sizeof(struct rp_tp_wire) == 48, "wire layout");

struct rp_tp {
	int timeout_ms;
	size_t max_len;
	bool remote;
	bool broken;    /* a READ failed: the QPs are in the error state */
	uint64_t seq;
	char device[IBV_SYSFS_NAME_MAX];
	struct sockaddr_in addr;          /* loopback: the device's address, listener port */
	struct rdma_event_channel *ech;
	struct rdma_cm_id *listen_id;     /* loopback: anchors the device */
	struct rdma_cm_id *reader_id;     /* loopback: active side, posts the READs */
	struct rdma_cm_id *target_id;     /* loopback: passive side; remote: our active side */
	struct ibv_pd *pd;
	struct ibv_comp_channel *cc;
	struct ibv_cq *cq;
	void *buf;                        /* loopback: READ sink; remote: mirror the agent writes */
	struct ibv_mr *buf_mr;
	struct rp_tp_wire *msg;           /* remote: [0] request, [1] reply */
	struct ibv_mr *msg_mr;
	struct ibv_mr **mrs;              /* MRs of rp_tp_reg(), deregistered by rp_tp_close() */
	int n_mrs, cap_mrs;
};

static __thread char tp_step_buf[192];
static pid_t tp_owner; /* the process that first used librdmacm through us */

static const char *tp_stepf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tp_step_buf, sizeof(tp_step_buf), fmt, ap);
	va_end(ap);
	return tp_step_buf;
}

/*
 * librdmacm caches device contexts for the life of the process. A child forked after they were
 * opened inherits their uverbs file descriptors, and the kernel refuses write() commands (post
 * send doorbells, ...) on a file opened under other credentials (EACCES): refuse early instead.
 */
static int tp_check_owner(const char **step)
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

/* errno of a failed call, never 0 (a library that forgot to set errno still fails) */
static int tp_errno(void)
{
	return errno ? -errno : -EIO;
}

static int64_t tp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int tp_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/* Wait until fd is readable or deadline passes: 1 readable, 0 timed out, -errno. */
static int tp_poll_fd(int fd, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int64_t left;
	int r;

	for (;;) {
		left = deadline - tp_now_ms();
		if (left <= 0)
			return 0;
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

/* Next CM event of the (non-blocking) channel before deadline. */
static int tp_get_event(struct rdma_event_channel *ech, int64_t deadline,
			struct rdma_cm_event **ev)
{
	int r;

	for (;;) {
		if (!rdma_get_cm_event(ech, ev))
			return 0;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		r = tp_poll_fd(ech->fd, deadline);
		if (r <= 0)
			return r ? r : -ETIMEDOUT;
	}
}

static int tp_event_errno(const struct rdma_cm_event *ev)
{
	switch (ev->event) {
	case RDMA_CM_EVENT_ADDR_ERROR:
	case RDMA_CM_EVENT_ROUTE_ERROR:
	case RDMA_CM_EVENT_UNREACHABLE:
		return ev->status < 0 ? ev->status : -EHOSTUNREACH;
	case RDMA_CM_EVENT_REJECTED:
		return -ECONNREFUSED;
	case RDMA_CM_EVENT_DISCONNECTED:
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
		return -ECONNRESET;
	case RDMA_CM_EVENT_CONNECT_ERROR:
		return ev->status < 0 ? ev->status : -ECONNABORTED;
	default:
		return -EPROTO;
	}
}

/* Wait for one event of type want on id (the only id with something in flight). */
static int tp_expect(struct rp_tp *tp, struct rdma_cm_id *id, enum rdma_cm_event_type want,
		     const char *what, const char **step)
{
	struct rdma_cm_event *ev;
	enum rdma_cm_event_type got;
	int r, status;

	r = tp_get_event(tp->ech, tp_now_ms() + tp->timeout_ms, &ev);
	if (r) {
		if (r == -ETIMEDOUT)
			*step = tp_stepf("%s: no CM event within %d ms", what, tp->timeout_ms);
		else
			*step = tp_stepf("%s: rdma_get_cm_event", what);
		return r;
	}
	got = ev->event;
	status = ev->status;
	r = ev->id == id && got == want ? 0 : tp_event_errno(ev);
	rdma_ack_cm_event(ev);
	if (r)
		*step = tp_stepf("%s: %s (status %d)", what, rdma_event_str(got), status);
	return r;
}

/*
 * Next work completion before deadline (any wr_id: the caller filters). 0 with *wc filled,
 * -ETIMEDOUT, or -errno.
 */
static int tp_next_wc(struct ibv_cq *cq, struct ibv_comp_channel *cc, int64_t deadline,
		      struct ibv_wc *wc)
{
	struct ibv_cq *ev_cq;
	void *ev_ctx;
	int n, r;

	for (;;) {
		n = ibv_poll_cq(cq, 1, wc);
		if (n < 0)
			return -EIO;
		if (n > 0)
			return 0;
		if (ibv_req_notify_cq(cq, 0))
			return tp_errno();
		/* a completion that came in before the notify was armed */
		n = ibv_poll_cq(cq, 1, wc);
		if (n < 0)
			return -EIO;
		if (n > 0)
			return 0;
		r = tp_poll_fd(cc->fd, deadline);
		if (r < 0)
			return r;
		if (!r)
			return -ETIMEDOUT;
		if (!ibv_get_cq_event(cc, &ev_cq, &ev_ctx))
			ibv_ack_cq_events(ev_cq, 1);
		else if (errno != EAGAIN)
			return -errno;
	}
}

/* Find the IPv4 address whose netdev carries the RDMA device want (NULL: any device). */
static int tp_find_addr(struct rdma_event_channel *ech, const char *want, struct sockaddr_in *out,
			char name[IBV_SYSFS_NAME_MAX], const char **step)
{
	struct ifaddrs *ifa, *i;
	struct rdma_cm_id *id;
	int pass, r = -ENODEV;

	if (getifaddrs(&ifa)) {
		*step = "getifaddrs";
		return -errno;
	}
	/* loopback addresses last: binding 127.0.0.1 picks any device, not the one on lo */
	for (pass = 0; pass < 2 && r; pass++) {
		for (i = ifa; i && r; i = i->ifa_next) {
			const char *dev;

			if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
			    !(i->ifa_flags & IFF_UP) || !!(i->ifa_flags & IFF_LOOPBACK) != pass)
				continue;
			if (rdma_create_id(ech, &id, NULL, RDMA_PS_TCP)) {
				r = -errno;
				*step = "rdma_create_id";
				goto free_ifaddrs;
			}
			memcpy(out, i->ifa_addr, sizeof(*out));
			out->sin_port = 0;
			if (!rdma_bind_addr(id, (struct sockaddr *)out) && id->verbs) {
				dev = ibv_get_device_name(id->verbs->device);
				if (!want || !strcmp(dev, want)) {
					snprintf(name, IBV_SYSFS_NAME_MAX, "%s", dev);
					r = 0;
				}
			}
			rdma_destroy_id(id);
		}
	}
	if (r)
		*step = want ? tp_stepf("%s: no IPv4 address on its netdev", want) :
			       "no RDMA device with an IPv4 address";
free_ifaddrs:
	freeifaddrs(ifa);
	return r;
}

static void tp_conn_params(struct rdma_conn_param *p)
{
	memset(p, 0, sizeof(*p));
	/* one READ in flight each way: iWARP refuses RDMA READ without these */
	p->initiator_depth = 1;
	p->responder_resources = 1;
	p->retry_count = 7;
	p->rnr_retry_count = 7;
}

static void tp_qp_attr(struct ibv_qp_init_attr *a, struct ibv_cq *cq, void *ctx)
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

static int tp_map(size_t len, void **p)
{
	*p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*p == MAP_FAILED) {
		*p = NULL;
		return -errno;
	}
	return 0;
}

/* Loopback: tear down the reader/target connection, keep the listener, PD, CQ and MRs. */
static void tp_lb_down(struct rp_tp *tp)
{
	if (tp->reader_id && tp->reader_id->qp)
		rdma_disconnect(tp->reader_id);
	if (tp->target_id) {
		if (tp->target_id->qp)
			rdma_destroy_qp(tp->target_id);
		rdma_destroy_id(tp->target_id);
		tp->target_id = NULL;
	}
	if (tp->reader_id) {
		if (tp->reader_id->qp)
			rdma_destroy_qp(tp->reader_id);
		rdma_destroy_id(tp->reader_id);
		tp->reader_id = NULL;
	}
}

/* Loopback: connect a reader cm_id to the listener and accept it; both QPs in tp->pd. */
static int tp_lb_up(struct rp_tp *tp, const char **step)
{
	struct sockaddr_in src = tp->addr, dst = tp->addr;
	struct rdma_conn_param param;
	struct ibv_qp_init_attr qpa;
	struct rdma_cm_event *ev;
	bool reader_up = false, target_up = false;
	int64_t deadline;
	int r;

	src.sin_port = 0;
	if (rdma_create_id(tp->ech, &tp->reader_id, tp, RDMA_PS_TCP)) {
		tp->reader_id = NULL;
		*step = "rdma_create_id(reader)";
		return tp_errno();
	}
	if (rdma_resolve_addr(tp->reader_id, (struct sockaddr *)&src, (struct sockaddr *)&dst,
			      tp->timeout_ms)) {
		*step = "rdma_resolve_addr";
		r = tp_errno();
		goto down;
	}
	r = tp_expect(tp, tp->reader_id, RDMA_CM_EVENT_ADDR_RESOLVED, "rdma_resolve_addr", step);
	if (r)
		goto down;
	if (rdma_resolve_route(tp->reader_id, tp->timeout_ms)) {
		*step = "rdma_resolve_route";
		r = tp_errno();
		goto down;
	}
	r = tp_expect(tp, tp->reader_id, RDMA_CM_EVENT_ROUTE_RESOLVED, "rdma_resolve_route", step);
	if (r)
		goto down;
	if (tp->reader_id->verbs != tp->pd->context) {
		*step = tp_stepf("rdma_resolve_route: %s's address routes to another device",
				 tp->device);
		r = -ENODEV;
		goto down;
	}
	tp_qp_attr(&qpa, tp->cq, tp);
	if (rdma_create_qp(tp->reader_id, tp->pd, &qpa)) {
		*step = "rdma_create_qp(reader)";
		r = tp_errno();
		goto down;
	}
	tp_conn_params(&param);
	if (rdma_connect(tp->reader_id, &param)) {
		*step = "rdma_connect";
		r = tp_errno();
		goto down;
	}
	deadline = tp_now_ms() + tp->timeout_ms;
	while (!reader_up || !target_up) {
		struct rdma_cm_id *id;
		enum rdma_cm_event_type type;
		int status;

		r = tp_get_event(tp->ech, deadline, &ev);
		if (r) {
			if (r == -ETIMEDOUT)
				*step = tp_stepf("rdma_connect: not established within %d ms",
						 tp->timeout_ms);
			else
				*step = "rdma_connect: rdma_get_cm_event";
			goto down;
		}
		id = ev->id;
		type = ev->event;
		status = ev->status;
		if (type == RDMA_CM_EVENT_CONNECT_REQUEST && !tp->target_id) {
			rdma_ack_cm_event(ev);
			tp->target_id = id;
			if (rdma_create_qp(id, tp->pd, &qpa)) {
				*step = "rdma_create_qp(target)";
				r = tp_errno();
				goto down;
			}
			if (rdma_accept(id, &param)) {
				*step = "rdma_accept";
				r = tp_errno();
				goto down;
			}
			continue;
		}
		if (type == RDMA_CM_EVENT_ESTABLISHED &&
		    (id == tp->reader_id || id == tp->target_id)) {
			rdma_ack_cm_event(ev);
			if (id == tp->reader_id)
				reader_up = true;
			else
				target_up = true;
			continue;
		}
		r = tp_event_errno(ev);
		rdma_ack_cm_event(ev);
		*step = tp_stepf("rdma_connect: %s (status %d)", rdma_event_str(type), status);
		goto down;
	}
	tp->broken = false;
	return 0;

down:
	tp_lb_down(tp);
	return r;
}

/* Remote: resolve the agent's address from opts->device's address (if any), on tp->target_id. */
static int tp_rm_resolve(struct rp_tp *tp, const struct rp_tp_opts *opts, const char **step)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res;
	struct sockaddr_in src;
	char port[8];
	int r;

	snprintf(port, sizeof(port), "%u", opts->port ? opts->port : RP_TP_DEFAULT_PORT);
	r = getaddrinfo(opts->connect_host, port, &hints, &res);
	if (r) {
		*step = tp_stepf("getaddrinfo(%s): %s", opts->connect_host, gai_strerror(r));
		return r == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	}
	if (opts->device) {
		r = tp_find_addr(tp->ech, opts->device, &src, tp->device, step);
		if (r)
			goto free_res;
	}
	if (rdma_create_id(tp->ech, &tp->target_id, tp, RDMA_PS_TCP)) {
		tp->target_id = NULL;
		*step = "rdma_create_id";
		r = tp_errno();
		goto free_res;
	}
	if (rdma_resolve_addr(tp->target_id, opts->device ? (struct sockaddr *)&src : NULL,
			      res->ai_addr, tp->timeout_ms)) {
		*step = tp_stepf("rdma_resolve_addr(%s)", opts->connect_host);
		r = tp_errno();
		goto free_res;
	}
	r = tp_expect(tp, tp->target_id, RDMA_CM_EVENT_ADDR_RESOLVED, "rdma_resolve_addr", step);
	if (r)
		goto free_res;
	if (rdma_resolve_route(tp->target_id, tp->timeout_ms)) {
		*step = "rdma_resolve_route";
		r = tp_errno();
		goto free_res;
	}
	r = tp_expect(tp, tp->target_id, RDMA_CM_EVENT_ROUTE_RESOLVED, "rdma_resolve_route", step);
	if (r)
		goto free_res;
	snprintf(tp->device, sizeof(tp->device), "%s",
		 ibv_get_device_name(tp->target_id->verbs->device));
free_res:
	freeaddrinfo(res);
	return r;
}

/* Remote: QP on tp->target_id, reply RECV posted, connect to the agent. */
static int tp_rm_up(struct rp_tp *tp, const char **step)
{
	struct rdma_conn_param param;
	struct ibv_qp_init_attr qpa;
	int r;

	tp_qp_attr(&qpa, tp->cq, tp);
	if (rdma_create_qp(tp->target_id, tp->pd, &qpa)) {
		*step = "rdma_create_qp";
		return tp_errno();
	}
	tp_conn_params(&param);
	if (rdma_connect(tp->target_id, &param)) {
		*step = "rdma_connect";
		r = tp_errno();
		goto destroy_qp;
	}
	r = tp_expect(tp, tp->target_id, RDMA_CM_EVENT_ESTABLISHED, "rdma_connect", step);
	if (r)
		goto destroy_qp;
	return 0;

destroy_qp:
	rdma_destroy_qp(tp->target_id);
	return r;
}

static void tp_free_mrs(struct rp_tp *tp)
{
	while (tp->n_mrs)
		ibv_dereg_mr(tp->mrs[--tp->n_mrs]);
	free(tp->mrs);
	tp->mrs = NULL;
	tp->cap_mrs = 0;
}

int rp_tp_open(const struct rp_tp_opts *opts, struct rp_tp **out, const char **step)
{
	struct rp_tp *tp;
	struct ibv_context *ctx;
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	int r;

	*out = NULL;
	r = tp_check_owner(step);
	if (r)
		return r;
	*step = "calloc";
	tp = calloc(1, sizeof(*tp));
	if (!tp)
		return -ENOMEM;
	tp->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : RP_TP_DEFAULT_TIMEOUT_MS;
	tp->max_len = opts->max_len ? opts->max_len : RP_TP_DEFAULT_MAX_LEN;
	tp->max_len = (tp->max_len + pg - 1) / pg * pg;
	tp->remote = !!opts->connect_host;
	if (tp->remote && tp->max_len > UINT32_MAX) {
		*step = "max_len: the wire format carries 32-bit lengths";
		r = -EMSGSIZE;
		goto free_tp;
	}

	tp->ech = rdma_create_event_channel();
	if (!tp->ech) {
		*step = "rdma_create_event_channel";
		r = tp_errno();
		goto free_tp;
	}
	r = tp_set_nonblock(tp->ech->fd);
	if (r) {
		*step = "fcntl(rdma_cm fd, O_NONBLOCK)";
		goto destroy_ech;
	}

	/* the anchor: a cm_id that holds the device (and its ibv_context) for our lifetime */
	if (tp->remote) {
		r = tp_rm_resolve(tp, opts, step);
		if (r)
			goto destroy_anchor;
		ctx = tp->target_id->verbs;
	} else {
		r = tp_find_addr(tp->ech, opts->device, &tp->addr, tp->device, step);
		if (r)
			goto destroy_ech;
		if (rdma_create_id(tp->ech, &tp->listen_id, tp, RDMA_PS_TCP)) {
			tp->listen_id = NULL;
			*step = "rdma_create_id(listener)";
			r = tp_errno();
			goto destroy_ech;
		}
		if (rdma_bind_addr(tp->listen_id, (struct sockaddr *)&tp->addr)) {
			*step = "rdma_bind_addr(listener)";
			r = tp_errno();
			goto destroy_anchor;
		}
		if (rdma_listen(tp->listen_id, 1)) {
			*step = "rdma_listen";
			r = tp_errno();
			goto destroy_anchor;
		}
		tp->addr.sin_port = rdma_get_src_port(tp->listen_id);
		ctx = tp->listen_id->verbs;
	}

	tp->pd = ibv_alloc_pd(ctx);
	if (!tp->pd) {
		*step = "ibv_alloc_pd";
		r = tp_errno();
		goto destroy_anchor;
	}
	tp->cc = ibv_create_comp_channel(ctx);
	if (!tp->cc) {
		*step = "ibv_create_comp_channel";
		r = tp_errno();
		goto dealloc_pd;
	}
	r = tp_set_nonblock(tp->cc->fd);
	if (r) {
		*step = "fcntl(completion channel fd, O_NONBLOCK)";
		goto destroy_cc;
	}
	tp->cq = ibv_create_cq(ctx, 16, tp, tp->cc, 0);
	if (!tp->cq) {
		*step = "ibv_create_cq";
		r = tp_errno();
		goto destroy_cc;
	}
	r = tp_map(tp->max_len, &tp->buf);
	if (r) {
		*step = "mmap(reader buffer)";
		goto destroy_cq;
	}
	/* REMOTE_WRITE: the agent's WRITE lands in the mirror, and iWARP READ sinks may need it */
	tp->buf_mr = ibv_reg_mr(tp->pd, tp->buf, tp->max_len, IBV_ACCESS_LOCAL_WRITE |
				IBV_ACCESS_REMOTE_WRITE);
	if (!tp->buf_mr) {
		*step = "ibv_reg_mr(reader buffer)";
		r = tp_errno();
		goto unmap_buf;
	}
	if (tp->remote) {
		r = tp_map(pg, (void **)&tp->msg);
		if (r) {
			*step = "mmap(messages)";
			goto dereg_buf;
		}
		tp->msg_mr = ibv_reg_mr(tp->pd, tp->msg, pg, IBV_ACCESS_LOCAL_WRITE);
		if (!tp->msg_mr) {
			*step = "ibv_reg_mr(messages)";
			r = tp_errno();
			goto unmap_msg;
		}
		r = tp_rm_up(tp, step);
	} else {
		r = tp_lb_up(tp, step);
	}
	if (r)
		goto dereg_msg;
	*out = tp;
	return 0;

dereg_msg:
	if (tp->msg_mr)
		ibv_dereg_mr(tp->msg_mr);
unmap_msg:
	if (tp->msg)
		munmap(tp->msg, pg);
dereg_buf:
	ibv_dereg_mr(tp->buf_mr);
unmap_buf:
	munmap(tp->buf, tp->max_len);
destroy_cq:
	ibv_destroy_cq(tp->cq);
destroy_cc:
	ibv_destroy_comp_channel(tp->cc);
dealloc_pd:
	ibv_dealloc_pd(tp->pd);
destroy_anchor:
	if (tp->listen_id)
		rdma_destroy_id(tp->listen_id);
	if (tp->target_id)
		rdma_destroy_id(tp->target_id);
destroy_ech:
	rdma_destroy_event_channel(tp->ech);
free_tp:
	free(tp);
	return r;
}

void rp_tp_close(struct rp_tp *tp)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	if (!tp)
		return;
	/* reverse of rp_tp_open(): connection, MRs, buffers, CQ, channel, PD, anchor, channel */
	if (tp->remote) {
		if (tp->target_id->qp) {
			rdma_disconnect(tp->target_id);
			rdma_destroy_qp(tp->target_id);
		}
	} else {
		tp_lb_down(tp);
	}
	tp_free_mrs(tp);
	if (tp->msg_mr)
		ibv_dereg_mr(tp->msg_mr);
	if (tp->msg)
		munmap(tp->msg, pg);
	ibv_dereg_mr(tp->buf_mr);
	munmap(tp->buf, tp->max_len);
	ibv_destroy_cq(tp->cq);
	ibv_destroy_comp_channel(tp->cc);
	ibv_dealloc_pd(tp->pd);
	if (tp->listen_id)
		rdma_destroy_id(tp->listen_id);
	if (tp->target_id)
		rdma_destroy_id(tp->target_id);
	rdma_destroy_event_channel(tp->ech);
	free(tp);
}

struct ibv_pd *rp_tp_pd(struct rp_tp *tp)
{
	return tp->pd;
}

int rp_tp_raise_memlock(size_t need, unsigned long long *limit)
{
	return rp_memlock_raise(need, limit);
}

const char *rp_tp_device(struct rp_tp *tp)
{
	return tp->device;
}

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

int rp_tp_list_devices(char names[][IBV_SYSFS_NAME_MAX], int max)
{
	struct ibv_device **list;
	int i, n;

	list = ibv_get_device_list(&n);
	if (!list)
		return errno == ENOSYS || errno == ENODEV ? 0 : tp_errno();
	for (i = 0; i < n && i < max; i++)
		snprintf(names[i], IBV_SYSFS_NAME_MAX, "%s", ibv_get_device_name(list[i]));
	ibv_free_device_list(list);
	return i;
}

int rp_tp_reg(struct rp_tp *tp, void *addr, size_t len, int access, struct ibv_mr **mr)
{
	if (tp->n_mrs == tp->cap_mrs) {
		int cap = tp->cap_mrs ? 2 * tp->cap_mrs : 8;
		struct ibv_mr **m = realloc(tp->mrs, cap * sizeof(*m));

		if (!m)
			return -ENOMEM;
		tp->mrs = m;
		tp->cap_mrs = cap;
	}
	errno = 0;
	*mr = ibv_reg_mr(tp->pd, addr, len, access);
	if (!*mr)
		return tp_errno();
	tp->mrs[tp->n_mrs++] = *mr;
	return 0;
}

int rp_tp_rereg(struct rp_tp *tp, struct ibv_mr *mr, int flags, void *addr, size_t len,
		int access)
{
	errno = 0;
	if (ibv_rereg_mr(mr, flags, tp->pd, addr, len, access))
		return errno ? -errno : -EINVAL;
	return 0;
}

int rp_tp_dereg(struct rp_tp *tp, struct ibv_mr *mr)
{
	int i, r;

	for (i = 0; i < tp->n_mrs && tp->mrs[i] != mr; i++)
		;
	if (i == tp->n_mrs)
		return -EINVAL;
	r = ibv_dereg_mr(mr);
	if (r)
		return -r;
	tp->mrs[i] = tp->mrs[--tp->n_mrs];
	return 0;
}

/* Wait for the completions in want (bitmask of 1 << WR_*) of sequence seq. */
static int tp_wait(struct rp_tp *tp, uint64_t seq, unsigned int want, const char *what,
		   const char **step)
{
	int64_t deadline = tp_now_ms() + tp->timeout_ms;
	struct ibv_wc wc;
	int r;

	while (want) {
		r = tp_next_wc(tp->cq, tp->cc, deadline, &wc);
		if (r) {
			if (r == -ETIMEDOUT)
				*step = tp_stepf("poll_cq: %s timed out after %d ms", what,
						 tp->timeout_ms);
			else
				*step = tp_stepf("poll_cq: %s", what);
			return r;
		}
		if (wc.wr_id >> 2 != seq)
			continue; /* flushed work of an earlier connection */
		if (wc.status != IBV_WC_SUCCESS) {
			*step = tp_stepf("%s: %s", what, ibv_wc_status_str(wc.status));
			return -EIO;
		}
		want &= ~(1u << (wc.wr_id & 3));
	}
	return 0;
}

static int tp_lb_read(struct rp_tp *tp, struct ibv_mr *mr, size_t len, const char **step)
{
	uint64_t seq = ++tp->seq;
	struct ibv_sge sge = {
		.addr = (uintptr_t)tp->buf, .length = (uint32_t)len, .lkey = tp->buf_mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = seq << 2 | WR_READ, .sg_list = &sge, .num_sge = 1,
		.opcode = IBV_WR_RDMA_READ, .send_flags = IBV_SEND_SIGNALED,
		.wr.rdma = { .remote_addr = (uintptr_t)mr->addr, .rkey = mr->rkey },
	}, *bad;
	int r;

	r = ibv_post_send(tp->reader_id->qp, &wr, &bad);
	if (r) {
		*step = "ibv_post_send(RDMA READ)";
		return -r;
	}
	return tp_wait(tp, seq, 1u << WR_READ, "RDMA READ", step);
}

static int tp_rm_read(struct rp_tp *tp, struct ibv_mr *mr, size_t len, const char **step)
{
	uint64_t seq = ++tp->seq;
	struct rp_tp_wire *req = &tp->msg[0], *rep = &tp->msg[1];
	struct ibv_sge rsge = {
		.addr = (uintptr_t)rep, .length = sizeof(*rep), .lkey = tp->msg_mr->lkey,
	};
	struct ibv_sge ssge = {
		.addr = (uintptr_t)req, .length = sizeof(*req), .lkey = tp->msg_mr->lkey,
	};
	struct ibv_recv_wr rwr = { .wr_id = seq << 2 | WR_RECV, .sg_list = &rsge, .num_sge = 1 },
			   *rbad;
	struct ibv_send_wr swr = {
		.wr_id = seq << 2 | WR_SEND, .sg_list = &ssge, .num_sge = 1,
		.opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED,
	}, *sbad;
	int r;

	memset(rep, 0, sizeof(*rep));
	*req = (struct rp_tp_wire){
		.magic = htobe32(RP_TP_WIRE_MAGIC), .op = htobe32(RP_TP_OP_READ),
		.addr = htobe64((uintptr_t)mr->addr), .rkey = htobe32(mr->rkey),
		.len = htobe32((uint32_t)len),
		.mirror_addr = htobe64((uintptr_t)tp->buf),
		.mirror_rkey = htobe32(tp->buf_mr->rkey),
	};
	r = ibv_post_recv(tp->target_id->qp, &rwr, &rbad);
	if (r) {
		*step = "ibv_post_recv(reply)";
		return -r;
	}
	r = ibv_post_send(tp->target_id->qp, &swr, &sbad);
	if (r) {
		*step = "ibv_post_send(request)";
		return -r;
	}
	r = tp_wait(tp, seq, 1u << WR_SEND | 1u << WR_RECV, "waiting for the agent's reply", step);
	if (r)
		return r;
	if (be32toh(rep->magic) != RP_TP_WIRE_MAGIC || be32toh(rep->op) != RP_TP_OP_REPLY) {
		*step = "remote read: malformed reply from the agent";
		return -EPROTO;
	}
	r = (int32_t)be32toh((uint32_t)rep->status);
	if (r) {
		uint32_t ws = be32toh(rep->wc_status);

		*step = ws ? tp_stepf("agent's RDMA READ: %s", ibv_wc_status_str(ws)) :
			     "agent refused the request";
		return r < 0 ? r : -EPROTO;
	}
	return 0;
}

int rp_tp_read(struct rp_tp *tp, struct ibv_mr *mr, void *dst, size_t len, const char **step)
{
	int r;

	if (!len)
		return 0;
	if (len > tp->max_len) {
		*step = tp_stepf("RDMA READ of %zu bytes: max_len is %zu", len, tp->max_len);
		return -EMSGSIZE;
	}
	if (tp->broken) {
		if (tp->remote) {
			*step = "connection to the agent lost after an earlier error";
			return -ENOTCONN;
		}
		tp_lb_down(tp);
		r = tp_lb_up(tp, step);
		if (r)
			return r;
	}
	/* poison the sink so that a READ that placed nothing cannot pass as a good one */
	memset(tp->buf, 0xa5, len);
	r = tp->remote ? tp_rm_read(tp, mr, len, step) : tp_lb_read(tp, mr, len, step);
	if (r) {
		tp->broken = true;
		return r;
	}
	memcpy(dst, tp->buf, len);
	return 0;
}

/* ---- the reader agent (rp_tp_serve) ---- */

struct tp_agent_conn {
	struct rdma_cm_id *id;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	void *buf;
	struct ibv_mr *buf_mr;
	struct rp_tp_wire *msg;          /* [0] request received, [1] reply sent */
	struct ibv_mr *msg_mr;
	struct rp_tp_wire req;           /* the request being served (host order) */
	int64_t deadline;                /* accept, READ or idle: drop the conn after it */
	bool established, closing;
	bool pending;                    /* a request came before ESTABLISHED (QP maybe not RTS) */
};

struct tp_agent {
	int timeout_ms;
	size_t max_len;
	struct rdma_event_channel *ech;
	struct ibv_comp_channel *cc;     /* all connections' CQs; made on the first connection */
	struct tp_agent_conn conn[RP_TP_AGENT_SLOTS];
	int served;
};

static void tp_agent_drop(struct tp_agent *ag, struct tp_agent_conn *c)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	if (c->id->qp) {
		rdma_disconnect(c->id);
		rdma_destroy_qp(c->id);
	}
	if (c->msg_mr)
		ibv_dereg_mr(c->msg_mr);
	if (c->msg)
		munmap(c->msg, pg);
	if (c->buf_mr)
		ibv_dereg_mr(c->buf_mr);
	if (c->buf)
		munmap(c->buf, ag->max_len);
	if (c->cq)
		ibv_destroy_cq(c->cq);
	if (c->pd)
		ibv_dealloc_pd(c->pd);
	rdma_destroy_id(c->id);
	if (c->established)
		ag->served++;
	memset(c, 0, sizeof(*c));
}

static int tp_agent_post_recv(struct tp_agent_conn *c)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)&c->msg[0], .length = sizeof(c->msg[0]), .lkey = c->msg_mr->lkey,
	};
	struct ibv_recv_wr wr = { .wr_id = WR_RECV, .sg_list = &sge, .num_sge = 1 }, *bad;

	return ibv_post_recv(c->id->qp, &wr, &bad);
}

/* Accept a connection: per-connection PD, CQ, READ buffer, message buffers, RECV posted. */
static int tp_agent_accept(struct tp_agent *ag, struct tp_agent_conn *c, struct rdma_cm_id *id)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	struct rdma_conn_param param;
	struct ibv_qp_init_attr qpa;

	c->id = id;
	c->deadline = tp_now_ms() + ag->timeout_ms;
	if (!ag->cc) {
		ag->cc = ibv_create_comp_channel(id->verbs);
		if (!ag->cc || tp_set_nonblock(ag->cc->fd))
			return -1;
	} else if (ag->cc->context != id->verbs) {
		errno = EXDEV; /* one completion channel serves one device */
		return -1;
	}
	c->pd = ibv_alloc_pd(id->verbs);
	if (!c->pd)
		return -1;
	c->cq = ibv_create_cq(id->verbs, 16, c, ag->cc, 0);
	if (!c->cq || ibv_req_notify_cq(c->cq, 0))
		return -1;
	if (tp_map(ag->max_len, &c->buf) || tp_map(pg, (void **)&c->msg))
		return -1;
	c->buf_mr = ibv_reg_mr(c->pd, c->buf, ag->max_len, IBV_ACCESS_LOCAL_WRITE |
			       IBV_ACCESS_REMOTE_WRITE);
	c->msg_mr = ibv_reg_mr(c->pd, c->msg, pg, IBV_ACCESS_LOCAL_WRITE);
	if (!c->buf_mr || !c->msg_mr)
		return -1;
	tp_qp_attr(&qpa, c->cq, c);
	if (rdma_create_qp(id, c->pd, &qpa))
		return -1;
	errno = tp_agent_post_recv(c);
	if (errno)
		return -1;
	tp_conn_params(&param);
	return rdma_accept(id, &param);
}

static void tp_agent_reply(struct tp_agent_conn *c, int status, enum ibv_wc_status ws)
{
	struct rp_tp_wire *rep = &c->msg[1];
	struct ibv_sge sge = {
		.addr = (uintptr_t)rep, .length = sizeof(*rep), .lkey = c->msg_mr->lkey,
	};
	struct ibv_sge wsge = {
		.addr = (uintptr_t)c->buf, .length = c->req.len, .lkey = c->buf_mr->lkey,
	};
	struct ibv_send_wr send = {
		.wr_id = WR_SEND, .sg_list = &sge, .num_sge = 1,
		.opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED,
	};
	struct ibv_send_wr write = {
		.wr_id = WR_WRITE, .sg_list = &wsge, .num_sge = 1, .opcode = IBV_WR_RDMA_WRITE,
		.wr.rdma = { .remote_addr = c->req.mirror_addr, .rkey = c->req.mirror_rkey },
		.next = &send,
	}, *bad;

	*rep = (struct rp_tp_wire){
		.magic = htobe32(RP_TP_WIRE_MAGIC), .op = htobe32(RP_TP_OP_REPLY),
		.status = (int32_t)htobe32((uint32_t)status), .wc_status = htobe32(ws),
	};
	if (ibv_post_send(c->id->qp, status ? &send : &write, &bad))
		c->closing = true;
}

static void tp_agent_request(struct tp_agent *ag, struct tp_agent_conn *c)
{
	const struct rp_tp_wire *m = &c->msg[0];
	struct ibv_sge sge = { .addr = (uintptr_t)c->buf, .lkey = c->buf_mr->lkey };
	struct ibv_send_wr wr = {
		.wr_id = WR_READ, .sg_list = &sge, .num_sge = 1,
		.opcode = IBV_WR_RDMA_READ, .send_flags = IBV_SEND_SIGNALED,
	}, *bad;

	c->req = (struct rp_tp_wire){
		.magic = be32toh(m->magic), .op = be32toh(m->op), .addr = be64toh(m->addr),
		.rkey = be32toh(m->rkey), .len = be32toh(m->len),
		.mirror_addr = be64toh(m->mirror_addr), .mirror_rkey = be32toh(m->mirror_rkey),
	};
	if (tp_agent_post_recv(c)) {
		c->closing = true;
		return;
	}
	if (c->req.magic != RP_TP_WIRE_MAGIC || c->req.op != RP_TP_OP_READ) {
		c->req.len = 0;
		tp_agent_reply(c, -EPROTO, IBV_WC_SUCCESS);
		return;
	}
	if (c->req.len > ag->max_len) {
		c->req.len = 0;
		tp_agent_reply(c, -EMSGSIZE, IBV_WC_SUCCESS);
		return;
	}
	sge.length = c->req.len;
	wr.wr.rdma.remote_addr = c->req.addr;
	wr.wr.rdma.rkey = c->req.rkey;
	if (ibv_post_send(c->id->qp, &wr, &bad)) {
		tp_agent_reply(c, -EIO, IBV_WC_SUCCESS);
		return;
	}
	c->deadline = tp_now_ms() + ag->timeout_ms;
}

static void tp_agent_completion(struct tp_agent *ag, struct tp_agent_conn *c,
				const struct ibv_wc *wc)
{
	switch (wc->wr_id) {
	case WR_RECV:
		if (wc->status == IBV_WC_SUCCESS && !c->established)
			c->pending = true;
		else if (wc->status == IBV_WC_SUCCESS)
			tp_agent_request(ag, c);
		else
			c->closing = true;
		break;
	case WR_READ:
		/* a peer that vanished without a disconnect must not hold a slot for ever */
		c->deadline = tp_now_ms() + (int64_t)RP_TP_AGENT_IDLE_TIMEOUTS * ag->timeout_ms;
		if (wc->status == IBV_WC_SUCCESS) {
			tp_agent_reply(c, 0, IBV_WC_SUCCESS);
		} else {
			/* the QP is in the error state: the reply flushes; close for the peer */
			tp_agent_reply(c, -EIO, wc->status);
			c->closing = true;
		}
		break;
	default: /* WRITE, SEND */
		if (wc->status != IBV_WC_SUCCESS)
			c->closing = true;
		break;
	}
}

static struct tp_agent_conn *tp_agent_find(struct tp_agent *ag, struct rdma_cm_id *id)
{
	int i;

	for (i = 0; i < RP_TP_AGENT_SLOTS; i++)
		if (ag->conn[i].id == id)
			return &ag->conn[i];
	return NULL;
}

static int tp_agent_cm_event(struct tp_agent *ag, struct rdma_cm_id *listen_id,
			     const char **step)
{
	struct rdma_cm_event *ev;
	struct tp_agent_conn *c;
	struct rdma_cm_id *id;
	enum rdma_cm_event_type type;

	if (rdma_get_cm_event(ag->ech, &ev)) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		*step = "rdma_get_cm_event";
		return -errno;
	}
	id = ev->id;
	type = ev->event;
	rdma_ack_cm_event(ev);
	if (type == RDMA_CM_EVENT_CONNECT_REQUEST) {
		c = tp_agent_find(ag, NULL);
		if (!c) {
			rdma_reject(id, NULL, 0);
			rdma_destroy_id(id);
			return 0;
		}
		if (tp_agent_accept(ag, c, id)) {
			if (!c->id->qp)
				rdma_reject(id, NULL, 0);
			tp_agent_drop(ag, c);
		}
		return 0;
	}
	if (id == listen_id) {
		if (type == RDMA_CM_EVENT_DEVICE_REMOVAL) {
			*step = "listener: RDMA_CM_EVENT_DEVICE_REMOVAL";
			return -ENODEV;
		}
		return 0;
	}
	c = tp_agent_find(ag, id);
	if (!c)
		return 0;
	if (type == RDMA_CM_EVENT_ESTABLISHED) {
		c->established = true;
		c->deadline = tp_now_ms() + (int64_t)RP_TP_AGENT_IDLE_TIMEOUTS * ag->timeout_ms;
		if (c->pending) {
			c->pending = false;
			tp_agent_request(ag, c);
		}
	} else if (type != RDMA_CM_EVENT_TIMEWAIT_EXIT) {
		/* DISCONNECTED, CONNECT_ERROR, UNREACHABLE, REJECTED, DEVICE_REMOVAL */
		tp_agent_drop(ag, c);
	}
	return 0;
}

static void tp_agent_cq_event(struct tp_agent *ag)
{
	struct tp_agent_conn *c;
	struct ibv_cq *cq;
	struct ibv_wc wc;
	void *ctx;

	if (ibv_get_cq_event(ag->cc, &cq, &ctx))
		return;
	ibv_ack_cq_events(cq, 1);
	c = ctx;
	ibv_req_notify_cq(cq, 0);
	while (!c->closing && ibv_poll_cq(cq, 1, &wc) > 0)
		tp_agent_completion(ag, c, &wc);
}

int rp_tp_serve(const struct rp_tp_opts *opts, volatile bool *stop, int max_conns,
		const char **step)
{
	struct tp_agent ag = { 0 };
	struct rdma_cm_id *listen_id;
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	char name[IBV_SYSFS_NAME_MAX];
	int i, r, active;

	r = tp_check_owner(step);
	if (r)
		return r;
	ag.timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : RP_TP_DEFAULT_TIMEOUT_MS;
	ag.max_len = opts->max_len ? opts->max_len : RP_TP_DEFAULT_MAX_LEN;
	ag.ech = rdma_create_event_channel();
	if (!ag.ech) {
		*step = "rdma_create_event_channel";
		return tp_errno();
	}
	r = tp_set_nonblock(ag.ech->fd);
	if (r) {
		*step = "fcntl(rdma_cm fd, O_NONBLOCK)";
		goto destroy_ech;
	}
	if (opts->device) {
		r = tp_find_addr(ag.ech, opts->device, &addr, name, step);
		if (r)
			goto destroy_ech;
	}
	addr.sin_port = htons(opts->port ? opts->port : RP_TP_DEFAULT_PORT);
	if (rdma_create_id(ag.ech, &listen_id, NULL, RDMA_PS_TCP)) {
		*step = "rdma_create_id(listener)";
		r = tp_errno();
		goto destroy_ech;
	}
	if (rdma_bind_addr(listen_id, (struct sockaddr *)&addr)) {
		*step = tp_stepf("rdma_bind_addr(port %u)", ntohs(addr.sin_port));
		r = tp_errno();
		goto destroy_listener;
	}
	if (rdma_listen(listen_id, RP_TP_AGENT_SLOTS)) {
		*step = "rdma_listen";
		r = tp_errno();
		goto destroy_listener;
	}

	r = 0;
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = ag.ech->fd, .events = POLLIN },
			{ .fd = ag.cc ? ag.cc->fd : -1, .events = POLLIN },
		};
		int64_t now;

		active = 0;
		now = tp_now_ms();
		for (i = 0; i < RP_TP_AGENT_SLOTS; i++) {
			struct tp_agent_conn *c = &ag.conn[i];

			if (c->id && (c->closing || (c->deadline && now > c->deadline)))
				tp_agent_drop(&ag, c);
			active += !!ag.conn[i].id;
		}
		if ((stop && *stop) || (max_conns > 0 && ag.served >= max_conns && !active))
			break;
		if (poll(p, 2, RP_TP_STOP_POLL_MS) < 0 && errno != EINTR) {
			*step = "poll";
			r = -errno;
			break;
		}
		if (p[1].revents & POLLIN)
			tp_agent_cq_event(&ag);
		if (p[0].revents & POLLIN) {
			r = tp_agent_cm_event(&ag, listen_id, step);
			if (r)
				break;
		}
	}
	for (i = 0; i < RP_TP_AGENT_SLOTS; i++)
		if (ag.conn[i].id)
			tp_agent_drop(&ag, &ag.conn[i]);
	if (ag.cc)
		ibv_destroy_comp_channel(ag.cc);
destroy_listener:
	rdma_destroy_id(listen_id);
destroy_ech:
	rdma_destroy_event_channel(ag.ech);
	return r;
}
