#!/usr/bin/env python3
"""A small scriptable DNS responder standing in for anamed's upstream resolvers
(python3 stdlib only), for the ALIAS integration tests.

It listens on UDP and TCP at HOST:PORT (same port) and answers A/AAAA queries from a
table that can be changed while it runs, in one of several (mis)behaviours:

  normal          the table's answer (CNAME chains followed inside the table; NXDOMAIN
                  for names not in it; NODATA + SOA for a missing type); a UDP reply
                  bigger than the query's EDNS payload (512 without EDNS) gets TC=1
  timeout         no reply at all
  servfail        rcode SERVFAIL
  nxdomain        rcode NXDOMAIN with an SOA in authority
  wrong_id        the right answer under another message ID
  wrong_question  the right addresses for a different question name
  wrong_case      the right answer, question name with every letter's case flipped
  wrong_port      the right answer, sent from another socket (another source port)
  truncate        over UDP: TC=1 and no records; over TCP: the full answer
  tcp_stall       over UDP: TC=1 and no records; over TCP: the connection is accepted
                  and the query read, but never answered
  loop            qname CNAME loop-1.qname CNAME loop-2.qname CNAME qname
  long_chain      qname CNAME c1.qname ... CNAME c12.qname, then the addresses
The spoofing modes send only the bad reply, never a good one.

Control (a JSON object; as a process it is re-read from DIR/control.json on every
query, so tests switch behaviour by rewriting that file, see write_control()):

  {"mode": "normal",              # global mode; anything but "normal" wins over the
                                  # per-name modes
   "negative_ttl": 30,            # SOA TTL/minimum in negative answers
   "ad": false,                   # set AD (authenticated data) in every reply; a record's
                                  # own "ad" wins for queries at that name
   "records": {
       "lb.target.": {"a": ["203.0.113.10"], "aaaa": ["2001:db8::10"], "ttl": 2,
                      "mode": "timeout"},        # per-name mode (optional)
       "alias.target.": {"cname": "lb.target.", "ttl": 5}}}

Observation: every query received is counted per (lower-case name, type) and per
transport; as a process the counts are written (atomically) to DIR/counts.json after
each query:

  {"total": {"lb.target. A": 3, ...}, "udp": {...}, "tcp": {...},
   "recent": [{"t": unix time, "transport": "udp", "qname": "lB.TaRgEt.",
               "type": "A", "id": 1234, "sport": 40001, "mode": "normal",
               "do": false}, ...]}           # "do": the query's EDNS DO bit

As a process:
  python3 fake_upstream.py --dir DIR [--host 127.0.0.1] [--port 0]
writes the bound port to DIR/port once both sockets listen, and runs until SIGTERM.

As a module:
  up = FakeUpstream(control={...}); up.start(); ... up.port ... up.counts(); up.stop()
  write_control(DIR, {...}); read_counts(DIR); count(DIR, "lb.target.", "A")
"""

import argparse
import ipaddress
import json
import os
import signal
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # keep the source tree clean
from dnstest import encode_name  # noqa: E402  (python3 stdlib-only helpers next to this file)

MODES = ("normal", "timeout", "servfail", "nxdomain", "wrong_id", "wrong_question",
         "wrong_case", "wrong_port", "truncate", "tcp_stall", "loop", "long_chain")

T_A, T_NS, T_CNAME, T_SOA, T_AAAA, T_OPT = 1, 2, 5, 6, 28, 41
TYPE_NAMES = {T_A: "A", T_NS: "NS", T_CNAME: "CNAME", T_SOA: "SOA", T_AAAA: "AAAA"}
RC_NOERROR, RC_FORMERR, RC_SERVFAIL, RC_NXDOMAIN = 0, 1, 2, 3
LONG_CHAIN = 12
RECENT_MAX = 200


# --------------------------------------------------------------------------
# control and counts files
# --------------------------------------------------------------------------

def _atomic_write(path, text):
    tmp = "%s.%d.%d.tmp" % (path, os.getpid(), threading.get_ident())
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def write_control(state_dir, control):
    """Replace the control object of the fake running with --dir state_dir."""
    _atomic_write(os.path.join(state_dir, "control.json"), json.dumps(control, indent=1))


def read_counts(state_dir):
    """The counts object (see the module docstring); empty before the first query."""
    try:
        with open(os.path.join(state_dir, "counts.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {"total": {}, "udp": {}, "tcp": {}, "recent": []}


def count(state_dir, name, qtype, transport="total"):
    name = name.lower() if name.endswith(".") else name.lower() + "."
    return read_counts(state_dir).get(transport, {}).get("%s %s" % (name, qtype), 0)


# --------------------------------------------------------------------------
# wire format
# --------------------------------------------------------------------------

def _question_name(msg, off):
    """Raw (uncompressed) question name starting at off: (raw bytes, text, next offset)."""
    start, labels = off, []
    while True:
        if off >= len(msg):
            raise ValueError("name runs past the message")
        n = msg[off]
        if n == 0:
            off += 1
            break
        if n & 0xC0:
            raise ValueError("compressed question name")
        labels.append(msg[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    return msg[start:off], ".".join(labels) + ".", off


def parse_query(msg):
    """dict(id, flags, qname_raw, qname (as sent), qtype, qclass, payload) or None."""
    if len(msg) < 12:
        return None
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    if flags & 0x8000 or qd != 1:
        return None
    raw, text, off = _question_name(msg, 12)
    if off + 4 > len(msg):
        return None
    qtype, qclass = struct.unpack("!HH", msg[off:off + 4])
    off += 4
    payload, do = 512, False
    if an == 0 and ns == 0 and ar >= 1 and off + 11 <= len(msg) and msg[off] == 0:
        rtype, rclass = struct.unpack("!HH", msg[off + 1:off + 5])
        if rtype == T_OPT:
            payload = max(512, rclass)
            do = bool(msg[off + 7] & 0x80)
    return {"id": qid, "flags": flags, "qname_raw": raw, "qname": text, "qtype": qtype,
            "qclass": qclass, "payload": payload, "do": do, "question": msg[12:off]}


def _rr(owner_wire, rtype, ttl, rdata):
    return owner_wire + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


def _addr_rdata(qtype, text):
    return (ipaddress.IPv4Address(text) if qtype == T_A else ipaddress.IPv6Address(text)).packed


def _parent(name):
    return name.split(".", 1)[1] if name.count(".") > 1 else "."


def _soa_rr(name, neg_ttl):
    zone = _parent(name)
    z = "" if zone == "." else zone
    rdata = (encode_name("ns." + z) + encode_name("hostmaster." + z) +
             struct.pack("!IIIII", 1, 3600, 600, 86400, neg_ttl))
    return _rr(encode_name(zone), T_SOA, neg_ttl, rdata)


def _owner(name, qname_lower):
    """The query name is written as a pointer to the question (its case as asked)."""
    return b"\xc0\x0c" if name == qname_lower else encode_name(name)


def build_reply(q, rcode=RC_NOERROR, answer=(), authority=(), question=None, qid=None,
                tc=False, aa=True, ad=False):
    flags = 0x8000 | (q["flags"] & 0x7900)  # QR, opcode, RD copied
    if aa:
        flags |= 0x0400
    if ad:
        flags |= 0x0020
    if tc:
        flags |= 0x0200
    flags |= rcode
    question = q["question"] if question is None else question
    hdr = struct.pack("!HHHHHH", q["id"] if qid is None else qid, flags, 1,
                      len(answer), len(authority), 0)
    return hdr + question + b"".join(answer) + b"".join(authority)


# --------------------------------------------------------------------------
# the server
# --------------------------------------------------------------------------

class FakeUpstream:
    def __init__(self, host="127.0.0.1", port=0, state_dir=None, control=None):
        self.host, self.want_port, self.state_dir = host, port, state_dir
        self._control = control or {"mode": "normal", "records": {}}
        self._lock = threading.Lock()
        self._counts = {"total": {}, "udp": {}, "tcp": {}, "recent": []}
        self._stop = threading.Event()
        self._threads = []
        self.udp = self.tcp = None
        self.port = None

    # -- control --------------------------------------------------------------------

    def set_control(self, control):
        with self._lock:
            self._control = control
        if self.state_dir:
            write_control(self.state_dir, control)

    def control(self):
        if self.state_dir:
            try:
                with open(os.path.join(self.state_dir, "control.json")) as f:
                    c = json.load(f)
                with self._lock:
                    self._control = c
            except (OSError, ValueError):
                pass
        with self._lock:
            return self._control

    def counts(self):
        with self._lock:
            return json.loads(json.dumps(self._counts))

    def _ad(self, control, qname_lower):
        return bool(control.get("records", {}).get(qname_lower, {}).get(
            "ad", control.get("ad", False)))

    def _count(self, q, transport, mode, sport):
        key = "%s %s" % (q["qname"].lower(), TYPE_NAMES.get(q["qtype"], str(q["qtype"])))
        with self._lock:
            for k in ("total", transport):
                self._counts[k][key] = self._counts[k].get(key, 0) + 1
            self._counts["recent"].append({
                "t": time.time(), "transport": transport, "qname": q["qname"],
                "type": TYPE_NAMES.get(q["qtype"], str(q["qtype"])), "id": q["id"],
                "sport": sport, "mode": mode, "do": q["do"]})
            del self._counts["recent"][:-RECENT_MAX]
            if self.state_dir:
                _atomic_write(os.path.join(self.state_dir, "counts.json"),
                              json.dumps(self._counts))

    # -- answers --------------------------------------------------------------------

    def _mode(self, control, qname_lower):
        mode = control.get("mode", "normal")
        if mode == "normal":
            mode = control.get("records", {}).get(qname_lower, {}).get("mode", "normal")
        if mode not in MODES:
            raise ValueError("unknown mode %r" % mode)
        return mode

    def _resolve(self, control, q, mode):
        """(rcode, answer RRs, authority RRs) of a correct reply."""
        records = {k.lower(): v for k, v in control.get("records", {}).items()}
        neg_ttl = int(control.get("negative_ttl", 30))
        qname = q["qname"].lower()
        qtype = q["qtype"]
        default_ttl = int(records.get(qname, {}).get("ttl", 60))
        answer = []
        if mode in ("loop", "long_chain"):
            if mode == "loop":
                chain = [qname, "loop-1." + qname, "loop-2." + qname, qname]
            else:
                chain = [qname] + ["c%d.%s" % (i, qname) for i in range(1, LONG_CHAIN + 1)]
            for a, b in zip(chain, chain[1:]):
                answer.append(_rr(_owner(a, qname), T_CNAME, default_ttl, encode_name(b)))
            if mode == "long_chain":
                addr = "192.0.2.99" if qtype == T_A else "2001:db8::99"
                if qtype in (T_A, T_AAAA):
                    answer.append(_rr(encode_name(chain[-1]), qtype, default_ttl,
                                      _addr_rdata(qtype, addr)))
            return RC_NOERROR, answer, []
        if mode == "nxdomain":
            return RC_NXDOMAIN, [], [_soa_rr(qname, neg_ttl)]
        cur, seen = qname, set()
        while True:
            rec = records.get(cur)
            if rec is None:
                return RC_NXDOMAIN, answer, [_soa_rr(cur, neg_ttl)]
            ttl = int(rec.get("ttl", 60))
            if rec.get("cname") and qtype != T_CNAME:
                target = rec["cname"].lower()
                target = target if target.endswith(".") else target + "."
                answer.append(_rr(_owner(cur, qname), T_CNAME, ttl, encode_name(target)))
                if target in seen or len(seen) > 30:
                    return RC_NOERROR, answer, []
                seen.add(cur)
                cur = target
                continue
            key = {T_A: "a", T_AAAA: "aaaa"}.get(qtype)
            addrs = rec.get(key, []) if key else []
            if not addrs:
                return RC_NOERROR, answer, [_soa_rr(cur, neg_ttl)]
            for a in addrs:
                answer.append(_rr(_owner(cur, qname), qtype, ttl, _addr_rdata(qtype, a)))
            return RC_NOERROR, answer, []

    def handle(self, msg, transport, sport=None):
        """The reply bytes for one query (None: send nothing) and the mode used."""
        try:
            q = parse_query(msg)
        except ValueError:
            q = None
        if q is None:
            return None, None
        control = self.control()
        mode = self._mode(control, q["qname"].lower())
        self._count(q, transport, mode, sport)
        if mode == "timeout":
            return None, mode
        if mode == "servfail":
            return build_reply(q, RC_SERVFAIL, aa=False), mode
        rcode, answer, authority = self._resolve(control, q, mode)
        if mode in ("truncate", "tcp_stall") and transport == "udp":
            return build_reply(q, rcode, tc=True), mode
        if mode == "tcp_stall":
            return None, mode
        if mode == "wrong_id":
            return build_reply(q, rcode, answer, authority, qid=q["id"] ^ 0xFFFF), mode
        if mode == "wrong_question":
            bad = b"\x07spoofed" + q["qname_raw"]
            return build_reply(q, rcode, answer, authority,
                               question=bad + q["question"][len(q["qname_raw"]):]), mode
        if mode == "wrong_case":
            flipped = bytes(c ^ 0x20 if (0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A) else c
                            for c in q["qname_raw"])
            return build_reply(q, rcode, answer, authority,
                               question=flipped + q["question"][len(q["qname_raw"]):]), mode
        reply = build_reply(q, rcode, answer, authority, ad=self._ad(control, q["qname"].lower()))
        if transport == "udp" and len(reply) > q["payload"]:
            reply = build_reply(q, rcode, tc=True)
        return reply, mode

    # -- sockets --------------------------------------------------------------------

    def start(self):
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        for _ in range(50):
            u = socket.socket(family, socket.SOCK_DGRAM)
            u.bind((self.host, self.want_port))
            port = u.getsockname()[1]
            t = socket.socket(family, socket.SOCK_STREAM)
            t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                t.bind((self.host, port))
            except OSError:
                u.close()
                t.close()
                if self.want_port:
                    raise
                continue
            t.listen(64)
            self.udp, self.tcp, self.port = u, t, port
            break
        else:
            raise RuntimeError("no port free for both UDP and TCP")
        self.udp.settimeout(0.2)
        self.tcp.settimeout(0.2)
        for fn in (self._udp_loop, self._tcp_loop):
            th = threading.Thread(target=fn, daemon=True)
            th.start()
            self._threads.append(th)
        return self

    def stop(self):
        self._stop.set()
        for th in self._threads:
            th.join(2)
        for s in (self.udp, self.tcp):
            if s:
                s.close()

    def _udp_loop(self):
        family = self.udp.family
        while not self._stop.is_set():
            try:
                msg, peer = self.udp.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                reply, mode = self.handle(msg, "udp", peer[1])
            except Exception as e:  # a bug here must not kill the server
                print("fake_upstream: %r" % e, file=sys.stderr)
                continue
            if reply is None:
                continue
            try:
                if mode == "wrong_port":
                    with socket.socket(family, socket.SOCK_DGRAM) as other:
                        other.bind((self.host, 0))
                        other.sendto(reply, peer)
                else:
                    self.udp.sendto(reply, peer)
            except OSError:
                pass

    def _tcp_loop(self):
        while not self._stop.is_set():
            try:
                conn, peer = self.tcp.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            th = threading.Thread(target=self._tcp_conn, args=(conn, peer), daemon=True)
            th.start()

    def _tcp_conn(self, conn, peer):
        conn.settimeout(10)
        buf = b""
        try:
            with conn:
                while not self._stop.is_set():
                    while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
                        data = conn.recv(65535)
                        if not data:
                            return
                        buf += data
                    n = struct.unpack("!H", buf[:2])[0]
                    msg, buf = buf[2:2 + n], buf[2 + n:]
                    reply, mode = self.handle(msg, "tcp", peer[1])
                    if reply is None or mode == "wrong_port":
                        continue
                    conn.sendall(struct.pack("!H", len(reply)) + reply)
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", required=True, help="control.json / counts.json / port")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0: any free port (see DIR/port)")
    args = ap.parse_args()
    control = None
    try:
        with open(os.path.join(args.dir, "control.json")) as f:
            control = json.load(f)
    except OSError:
        pass
    up = FakeUpstream(args.host, args.port, args.dir, control).start()
    stop = threading.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, lambda *_: stop.set())
    _atomic_write(os.path.join(args.dir, "port"), str(up.port))
    while not stop.is_set():
        stop.wait(0.5)
    up.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
