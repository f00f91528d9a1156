/* SPDX-License-Identifier: GPL-2.0 */
/*
 * agent.h - the reader agent of rdmapin --server: the remote end of rdmapin --connect.
 *
 * It listens with librdmacm, accepts up to 8 connections at a time (each with its own PD, CQ
 * and buffers) and serves the requests of tp_wire.h: RDMA READ the client's MR, RDMA WRITE
 * what it read into the client's mirror buffer, reply. One thread, one poll() over the CM event
 * channel and one completion channel; every wait is bounded: the poll by 200 ms (to see *stop),
 * a connection by opts->timeout_ms while it is being accepted or a READ is in flight and by 60
 * times that while idle (a peer that vanished without a disconnect loses its slot).
 */
#ifndef RDMAPIN_AGENT_H
#define RDMAPIN_AGENT_H

#include <signal.h>

#include "transport.h"

/*
 * rp_tp_serve - listen on opts->port (0: RP_TP_DEFAULT_PORT) on the address of opts->device
 * (any address if NULL) and serve connections until *stop (a signal handler's flag; stop may
 * be NULL) becomes non-zero or max_conns (0: unlimited) connections were served and closed.
 * opts->max_len bounds a request's length. Returns 0 or a negative errno (*step names the step).
 * Like rp_tp_open(), only in the process that first used the transport (-ECHILD otherwise).
 */
int rp_tp_serve(const struct rp_tp_opts *opts, volatile sig_atomic_t *stop, int max_conns,
		const char **step);

#endif /* RDMAPIN_AGENT_H */
