/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tp_wire.h - the protocol between rdmapin --connect (transport.c, the target side) and the
 * reader agent of rdmapin --server (agent.c).
 *
 * One RC connection made with librdmacm. For each RDMA READ the target posts a RECV for the
 * reply, then SENDs a request: {addr, rkey, len} of the MR to read and {mirror addr, mirror
 * rkey} of a buffer the agent may write. The agent RDMA READs len bytes of the MR into its own
 * buffer and, if that worked, RDMA WRITEs them into the mirror; then it SENDs a reply with a
 * status (0 or -errno) and the ibv_wc_status of its READ. RC ordering places the WRITE before
 * the reply's completion at the target, so the mirror then holds what the agent read. A reply
 * with a non-zero status comes without a WRITE.
 *
 * Both messages are one struct rp_tp_wire, every field big endian. Lengths are 32 bits: a
 * target refuses a max_len above UINT32_MAX, an agent answers a len above its own max_len
 * with -EMSGSIZE and a wrong magic or op with -EPROTO.
 */
#ifndef RDMAPIN_TP_WIRE_H
#define RDMAPIN_TP_WIRE_H

#include <endian.h>
#include <stdint.h>

#define RP_TP_WIRE_MAGIC 0x72647069u /* "rdpi" */
#define RP_TP_OP_READ 1
#define RP_TP_OP_REPLY 2

/* One request or reply; big endian on the wire, host order once decoded by rp_tp_wire_get(). */
struct rp_tp_wire {
	uint32_t magic;
	uint32_t op;
	uint64_t addr;        /* request: the MR to read */
	uint64_t mirror_addr; /* request: where the agent writes what it read */
	uint32_t rkey;
	uint32_t mirror_rkey;
	uint32_t len;
	int32_t status;       /* reply: 0 or -errno */
	uint32_t wc_status;   /* reply: enum ibv_wc_status of the agent's READ */
	uint32_t pad;
};
_Static_assert(sizeof(struct rp_tp_wire) == 48, "wire layout");

/* The target's request: read len bytes at addr/rkey, write them to mirror_addr/mirror_rkey. */
static inline void rp_tp_wire_request(struct rp_tp_wire *w, uint64_t addr, uint32_t rkey,
				      uint32_t len, uint64_t mirror_addr, uint32_t mirror_rkey)
{
	*w = (struct rp_tp_wire){
		.magic = htobe32(RP_TP_WIRE_MAGIC), .op = htobe32(RP_TP_OP_READ),
		.addr = htobe64(addr), .rkey = htobe32(rkey), .len = htobe32(len),
		.mirror_addr = htobe64(mirror_addr), .mirror_rkey = htobe32(mirror_rkey),
	};
}

/* The agent's reply. */
static inline void rp_tp_wire_reply(struct rp_tp_wire *w, int32_t status, uint32_t wc_status)
{
	*w = (struct rp_tp_wire){
		.magic = htobe32(RP_TP_WIRE_MAGIC), .op = htobe32(RP_TP_OP_REPLY),
		.status = (int32_t)htobe32((uint32_t)status), .wc_status = htobe32(wc_status),
	};
}

/* Decode a received message into host order. */
static inline void rp_tp_wire_get(struct rp_tp_wire *host, const struct rp_tp_wire *net)
{
	*host = (struct rp_tp_wire){
		.magic = be32toh(net->magic), .op = be32toh(net->op),
		.addr = be64toh(net->addr), .mirror_addr = be64toh(net->mirror_addr),
		.rkey = be32toh(net->rkey), .mirror_rkey = be32toh(net->mirror_rkey),
		.len = be32toh(net->len), .status = (int32_t)be32toh((uint32_t)net->status),
		.wc_status = be32toh(net->wc_status),
	};
}

#endif /* RDMAPIN_TP_WIRE_H */
