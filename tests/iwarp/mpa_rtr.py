#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""mpa_rtr.py DEVICE [TIMEOUT] - in a guest with an iWARP device (siw): a peer-to-peer MPA
initiator written here over a plain TCP socket must bring an rdma_cm passive side to
ESTABLISHED with its RTR alone.

The initiator sends an MPA v2 request asking for peer-to-peer mode with a zero-length RDMA
WRITE as the ready-to-receive (RTR) message (RFC 6581), reads the MPA reply, sends that
zero-length WRITE and nothing else. siw's own initiator never asks for RTR, so without this
test siw_accept()'s RTR path (siw_sk_assign_rtr_upcalls()) never runs. The passive side is
pyverbs' synchronous rdma_cm (its accept() returns on ESTABLISHED) in a child process.

Cases (KTAP): mpa_reply_grants_write_rtr (the reply is a v2 reply that grants the zero-length
WRITE), rtr_established (the passive side reports ESTABLISHED within TIMEOUT seconds, default
10, of the RTR). A siw that installs its RTR handler only after the reply has gone out loses an
RTR that arrives in between: ESTABLISHED never comes (kernel-patches/0030).
Exit 0 pass, 1 fail, 4 skip (no such device, not iWARP, no pyverbs), 2 bad usage."""
import importlib.machinery
import importlib.util
import multiprocessing
import os
import select
import socket
import struct
import sys
import time

MPA_KEY_REQ = b"MPA ID Req Frame"
MPA_KEY_REP = b"MPA ID Rep Frame"
MPA_FLAG_REJECT, MPA_FLAG_ENHANCED, MPA_REV_2 = 0x2000, 0x1000, 2
V2_PEER_TO_PEER, V2_WRITE_RTR = 0x8000, 0x8000
PORT = 18650
TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def device_ipv4(dev):
    """The IPv4 address of RDMA device DEV's netdev, or None: guest-rdma-core's lookup (the
    GID table's netdevs, else `rdma link`; then `ip -4 addr`), loaded from that script."""
    path = os.path.join(TOP, "tests", "rdma-core", "guest-rdma-core")
    loader = importlib.machinery.SourceFileLoader("guest_rdma_core", path)
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module.device_ipv4(dev)[1]


def passive(ip, ready, done):
    """Child: listen, accept one request, report ESTABLISHED (accept() returned) on DONE."""
    try:
        import pyverbs.cm_enums as ce
        from pyverbs.cmid import CMID, AddrInfo
        from pyverbs.qp import QPCap, QPInitAttr
        import pyverbs.enums as e
        ai = AddrInfo(src=ip, src_service=str(PORT), port_space=ce.RDMA_PS_TCP,
                      flags=ce.RAI_PASSIVE)
        listen = CMID(creator=ai, qp_init_attr=QPInitAttr(qp_type=e.IBV_QPT_RC,
                                                          cap=QPCap()))
        listen.listen()
        ready.send("listening")
        child = listen.get_request()
        child.accept()
        done.send("established")
        time.sleep(1)   # let the parent read the answer before the connection goes away
    except Exception as e:  # reported by the parent as the case's reason
        done.send("error: %s: %s" % (type(e).__name__, e))


def recv_exact(s, n, deadline):
    buf = b""
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            raise TimeoutError("%d of %d bytes within the time bound" % (len(buf), n))
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("peer closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def mpa_request():
    # private data: the MPA v2 IRD/ORD words, peer-to-peer with a zero-length WRITE as RTR
    pd = struct.pack(">HH", V2_PEER_TO_PEER | 1, V2_WRITE_RTR | 1)
    return MPA_KEY_REQ + struct.pack(">HH", MPA_FLAG_ENHANCED | MPA_REV_2, len(pd)) + pd


def zero_length_write():
    # MPA length 14: DDP (tagged, last, version 1) + RDMAP (version 1, RDMA WRITE) control,
    # sink STag 1 (not checked for zero length, like siw's own RTR), sink TO 0; no payload,
    # no pad (2 + 14 is a multiple of 4); CRC 0: none was negotiated
    return struct.pack(">HHIQI", 14, 0xC140, 1, 0, 0)


def main(argv):
    if len(argv) not in (2, 3) or (len(argv) == 3 and not argv[2].isdigit()):
        print("usage: mpa_rtr.py DEVICE [TIMEOUT]", file=sys.stderr)
        return 2
    dev, bound = argv[1], int(argv[2]) if len(argv) == 3 else 10
    print("KTAP version 1")
    node = "/sys/class/infiniband/%s/node_type" % dev
    if not os.path.exists(node):
        print("1..0 # SKIP no RDMA device %s" % dev)
        return 4
    with open(node, encoding="ascii") as f:
        if "RNIC" not in f.read():
            print("1..0 # SKIP %s is not an iWARP device (MPA is iWARP's)" % dev)
            return 4
    if importlib.util.find_spec("pyverbs") is None:
        print("1..0 # SKIP no pyverbs (python3-pyverbs) for the passive side")
        return 4
    ip = device_ipv4(dev)
    if not ip:
        print("1..0 # SKIP %s: no IPv4 address on its netdev" % dev)
        return 4
    print("1..2")
    ctx = multiprocessing.get_context("fork")
    ready_r, ready_w = ctx.Pipe(False)
    done_r, done_w = ctx.Pipe(False)
    child = ctx.Process(target=passive, args=(ip, ready_w, done_w), daemon=True)
    child.start()
    results = []
    try:
        if not ready_r.poll(bound):
            raise TimeoutError("the passive side did not listen within %d s" % bound)
        ready_r.recv()
        deadline = time.monotonic() + bound
        with socket.create_connection((ip, PORT), timeout=bound) as s:
            s.sendall(mpa_request())
            hdr = recv_exact(s, 20, deadline)
            bits, pd_len = struct.unpack(">HH", hdr[16:20])
            pd = recv_exact(s, pd_len, deadline)
            ird, ord_ = struct.unpack(">HH", pd[:4]) if pd_len >= 4 else (0, 0)
            granted = (hdr[:16] == MPA_KEY_REP and not bits & MPA_FLAG_REJECT
                       and bits & MPA_FLAG_ENHANCED and ird & V2_PEER_TO_PEER
                       and ord_ & V2_WRITE_RTR)
            results.append(("mpa_reply_grants_write_rtr", bool(granted),
                            "key %r, bits 0x%04x, pd_len %d, v2 ird 0x%04x ord 0x%04x"
                            % (hdr[:16], bits, pd_len, ird, ord_)))
            s.sendall(zero_length_write())
            t0 = time.monotonic()
            got = done_r.recv() if done_r.poll(bound) else None
            if got == "established":
                results.append(("rtr_established", True, "ESTABLISHED %.0f ms after the RTR"
                                % ((time.monotonic() - t0) * 1000)))
            else:
                results.append(("rtr_established", False, got or
                                "no ESTABLISHED within %d s of the RTR: the passive side "
                                "never read it (siw_accept() installs its RTR handler after "
                                "the MPA reply?)" % bound))
    except (OSError, TimeoutError, ConnectionError, struct.error) as e:
        results.append(("mpa_reply_grants_write_rtr" if not results else "rtr_established",
                        False, "%s: %s" % (type(e).__name__, e)))
    finally:
        child.kill()
        child.join(5)
    names = ("mpa_reply_grants_write_rtr", "rtr_established")
    done = {n for n, _, _ in results}
    results += [(n, False, "not run: an earlier step failed") for n in names if n not in done]
    failed = 0
    for i, (name, ok, detail) in enumerate(results, 1):
        print("# %s: %s" % (name, detail))
        print("%s %d %s" % ("ok" if ok else "not ok", i, name))
        failed += not ok
    print("# %d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
