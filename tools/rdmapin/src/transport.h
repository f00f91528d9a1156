/* SPDX-License-Identifier: GPL-2.0 */
/*
 * transport.h - the verbs transport of rdmapin, client side.
 *
 * One RC connection made with librdmacm (iWARP needs the CM; RoCE uses it too, so both device
 * kinds share one path), a "target" side that registers MRs over the caller's memory, and a
 * "reader" side that RDMA READs them into a buffer of its own.
 *
 * Loopback (the default): both ends live in this process, on one device: the reader QP connects
 * to a listener bound to the device's own IP address.
 *
 * Remote: rdmapin --server runs rp_tp_serve() (agent.h), a reader agent; rdmapin --connect HOST
 * makes every case connect to it. The target side then sends {addr, rkey, len} of the MR to read
 * and the rkey of a mirror buffer; the agent RDMA READs the MR, RDMA WRITEs what it read into the
 * mirror and replies (tp_wire.h). rp_tp_read() hides the difference: either way it returns what
 * the remote side read.
 *
 * Every wait (CM event, CQ completion) is bounded by rp_tp_opts.timeout_ms (tp_wait.h).
 * Functions return 0 or a negative errno and, on error, point *step at a string naming the
 * failing step ("rdma_resolve_addr", "poll_cq: RDMA READ timed out", ...), so the caller prints
 * one line with context. The string is static or lives in a thread-local buffer that stays valid
 * until the next rp_tp_* call of the same thread. Nothing here prints or exits.
 *
 * Fork: librdmacm keeps device contexts open for the life of the process, and the kernel refuses
 * write()-based verbs commands (e.g. rxe's post-send doorbell) on a uverbs file opened by another
 * process's credentials: a child forked after rp_tp_open(), rp_tp_serve() or rp_tp_device_addr()
 * cannot use the transport (these functions return -ECHILD there). Fork case children first and
 * open the transport in the child; rp_list_devices() (devices.h) and rp_memlock_raise()
 * (memlock.h) are fork-safe.
 *
 * After an RDMA READ failed (error completion or timeout) the QPs are in the error state; the
 * next rp_tp_read() reconnects first (loopback) or returns -ENOTCONN (remote). MRs stay valid.
 */
#ifndef RDMAPIN_TRANSPORT_H
#define RDMAPIN_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <infiniband/verbs.h>

#define RP_TP_DEFAULT_PORT 18515
#define RP_TP_DEFAULT_TIMEOUT_MS 10000
#define RP_TP_DEFAULT_MAX_LEN (1UL << 20)

/* Options of rp_tp_open() and of rp_tp_serve() (agent.h). */
struct rp_tp_opts {
	const char *device;       /* device name, e.g. "rxe0"; NULL: the first device found */
	const char *connect_host; /* NULL: loopback in this process; else the --server host */
	uint16_t port;            /* remote: 0 is RP_TP_DEFAULT_PORT; loopback picks a free one */
	int timeout_ms;           /* bound for every wait; 0: RP_TP_DEFAULT_TIMEOUT_MS */
	size_t max_len;           /* largest rp_tp_read() length; 0: RP_TP_DEFAULT_MAX_LEN */
};

struct rp_tp; /* opaque: a connected target/reader pair */

/*
 * rp_tp_device_addr - the IPv4 address (dotted quad into host[len]) on the netdev of device
 * (NULL: the first device that has one): where loopback connects and rp_tp_serve() listens.
 * 0 or a negative errno (-ENODEV: no such device or no IPv4 address on it).
 */
int rp_tp_device_addr(const char *device, char *host, size_t len, const char **step);

/* rp_tp_open - connect (loopback or to opts->connect_host); *out is freed by rp_tp_close(). */
int rp_tp_open(const struct rp_tp_opts *opts, struct rp_tp **out, const char **step);

/*
 * rp_tp_close - tear down everything rp_tp_open() and rp_tp_reg() made; NULL is fine. 0, or
 * the negative errno of the first deregistration or destruction that failed (all are tried).
 */
int rp_tp_close(struct rp_tp *tp);

/* The device name actually used (for reports). */
const char *rp_tp_device(struct rp_tp *tp);

/*
 * rp_tp_reg - ibv_reg_mr(pd, addr, len, access) on the target side.
 * Returns 0 with *mr set, or the negative errno ibv_reg_mr reported (-EFAULT, -EPERM, ...).
 */
int rp_tp_reg(struct rp_tp *tp, void *addr, size_t len, int access, struct ibv_mr **mr);

/* rp_tp_dereg - ibv_dereg_mr of an MR made by rp_tp_reg(); 0 or negative errno. */
int rp_tp_dereg(struct rp_tp *tp, struct ibv_mr *mr);

/*
 * rp_tp_read - RDMA READ len bytes at offset 0 of mr (which must have IBV_ACCESS_REMOTE_READ) by
 * the reader side, and copy what the reader received into dst. len <= opts.max_len.
 * A completion with an error status returns -EIO (step names the ibv_wc_status_str); no
 * completion within the timeout returns -ETIMEDOUT.
 */
int rp_tp_read(struct rp_tp *tp, struct ibv_mr *mr, void *dst, size_t len, const char **step);

#endif /* RDMAPIN_TRANSPORT_H */
