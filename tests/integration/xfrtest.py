"""Shared pieces of the zone-transfer tests: records compared as sets, AXFR read message by
message (dnspython, TSIG across messages) or with kdig, anamectl, waiting for a serial or an
answer, and a small zone's text.
python3 stdlib + dnspython.
"""

import os
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdata  # noqa: E402
import dns.rdataclass  # noqa: E402
import dns.rdatatype  # noqa: E402

from anamedtest import find_anamectl  # noqa: E402
from peers import need  # noqa: E402


def records(rrsets):
    """A set of (owner, type, ttl, rdata text) from dnspython RRsets, owners lower-cased."""
    out = set()
    for rrset in rrsets:
        for rd in rrset:
            out.add((rrset.name.to_text().lower(), rrset.rdtype, rrset.ttl, rd.to_text().lower()))
    return out


def _recv(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def axfr_messages(zone, port, keyring=None, keyname=None, source="127.0.0.1"):
    """Every message of an AXFR of `zone` from 127.0.0.1:port, TSIG checked across them; stops
    at the second SOA or at the first message with an error rcode."""
    q = dns.message.make_query(zone, "AXFR")
    if keyring:
        q.use_tsig(keyring, keyname=keyname)
    msgs = []
    with socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0)) as s:
        wire = q.to_wire()
        s.sendall(len(wire).to_bytes(2, "big") + wire)
        ctx = None
        while True:
            n = int.from_bytes(_recv(s, 2), "big")
            m = dns.message.from_wire(_recv(s, n), keyring=keyring, request_mac=q.mac if keyring else b"",
                                      xfr=True, tsig_ctx=ctx, multi=bool(msgs))
            ctx = m.tsig_ctx
            msgs.append(m)
            if m.rcode() != dns.rcode.NOERROR:
                return msgs
            soas = sum(1 for m2 in msgs for rr in m2.answer if rr.rdtype == dns.rdatatype.SOA)
            if soas >= 2:
                return msgs


def axfr(zone, port, key):
    """The zone's records as a set, from an AXFR signed with `key` (peers.Key)."""
    msgs = dns.query.xfr("127.0.0.1", zone, port=port, keyring=key.keyring(), keyname=key.name,
                         timeout=5, lifetime=30, relativize=False)
    return records(rr for m in msgs for rr in m.answer)


def kdig_axfr(zone, port, key=None):
    """The zone's records as a set, from `kdig AXFR` (Knot's client), TSIG-signed with `key`.
    Raises when kdig reports a failure."""
    args = [need("kdig"), "@127.0.0.1", "-p", str(port), "+noall", "+answer", "+nocrypto", "AXFR", zone]
    if key:
        args[1:1] = ["-y", "%s:%s:%s" % (key.algorithm, key.name, key.secret)]
    r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    if r.returncode != 0 or ";; ERROR" in r.stdout or "failed" in r.stderr:
        raise RuntimeError("kdig AXFR %s failed: %s %s" % (zone, r.stdout[-2000:], r.stderr[-2000:]))
    out = set()
    for line in r.stdout.splitlines():
        if not line.strip() or line.startswith(";"):
            continue
        owner, ttl, rclass, rtype, rdata = line.split(None, 4)
        rd = dns.rdata.from_text(dns.rdataclass.from_text(rclass), dns.rdatatype.from_text(rtype), rdata)
        out.add((owner.lower(), rd.rdtype, int(ttl), rd.to_text().lower()))
    return out


def zone_text_records(zone, text):
    """The records of master-file text as a set, read by dnspython (ALIAS written as
    TYPE65401 in RFC 3597 form)."""
    import dns.zone
    z = dns.zone.from_text(text, origin=zone, relativize=False, check_origin=False)
    out = set()
    for name, rds in z.iterate_rdatasets():
        for rd in rds:
            out.add((name.to_text().lower(), rds.rdtype, rds.ttl, rd.to_text().lower()))
    return out


def anamectl(sock, *args, json_out=False):
    """anamectl against the control socket `sock`: the CompletedProcess."""
    cmd = [find_anamectl(), "--socket", sock] + (["--json"] if json_out else []) + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def serial(port, zone):
    """The serial 127.0.0.1:port serves for `zone`, or None."""
    try:
        r = dns.query.udp(dns.message.make_query(zone, "SOA"), "127.0.0.1", port=port, timeout=1)
    except Exception:
        return None
    return r.answer[0][0].serial if r.answer else None


def wait_serial(port, zone, want, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if serial(port, zone) == want:
            return True
        time.sleep(0.01)
    return False


def wait_until(pred, timeout, interval=0.05):
    """pred()'s first truthy value within `timeout` seconds, else None."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def addresses(port, name, rdtype="A"):
    """The sorted addresses 127.0.0.1:port answers for `name`."""
    try:
        r = dns.query.udp(dns.message.make_query(name, rdtype), "127.0.0.1", port=port, timeout=1)
    except Exception:
        return []
    return sorted(rd.to_text() for rrset in r.answer if rrset.rdtype == dns.rdatatype.from_text(rdtype)
                  for rd in rrset)


def small_zone(name, serial, www):
    """A zone file's text: SOA, NS, its nameserver's address and www A `www`."""
    return """$ORIGIN %s.
$TTL 300
@    SOA ns1 hostmaster %d 3600 600 1209600 300
@    NS  ns1
ns1  A   192.0.2.1
www  A   %s
""" % (name, serial, www)


def answer(port, name, rdtype="A"):
    """(rcode text, [rdata text]) of a UDP query to 127.0.0.1:port; (None, []) without a reply."""
    try:
        r = dns.query.udp(dns.message.make_query(name, rdtype), "127.0.0.1", port=port, timeout=1)
    except Exception:
        return None, []
    return dns.rcode.to_text(r.rcode()), sorted(rd.to_text() for rrset in r.answer for rd in rrset)


def wait_answer(port, name, expected, timeout=10.0):
    """Asks until the answer is `expected` or the time is up; the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        got = answer(port, name)
        if got == expected or time.monotonic() >= deadline:
            return got
        time.sleep(0.05)
