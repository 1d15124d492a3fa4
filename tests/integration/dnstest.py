"""DNS helpers shared by anamed's integration suites (python3 stdlib only).

The suites (test_*.py, one scenario each) are run as scripts and import this
module, anamedtest.py (processes, test-case bases, the runner) and their
family's base (answerstest.py, aliastest.py, controltest.py) from their own
directory.  Here:

  * settings from the environment: DIG (default "dig"), ANAMED_TEST_VERBOSE=1
    (VERBOSE: print every dig command line), ANAMED_TESTDATA (DATA, default
    ../data next to this file);
  * dig: run_dig() and parse_dig() (dig's text output as a dict), lower_rrs();
  * the wire format: build_query(), parse_header(), parse_message(),
    soa_serial(), TCP framing (tcp_frame, recv_exact, recv_tcp_msg).
"""

import os
import re
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DIG = os.environ.get("DIG", "dig")
VERBOSE = os.environ.get("ANAMED_TEST_VERBOSE") == "1"
DATA = os.environ.get("ANAMED_TESTDATA", os.path.join(os.path.dirname(HERE), "data"))

RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN",
          4: "NOTIMP", 5: "REFUSED", 9: "NOTAUTH"}
T_A, T_NS, T_SOA, T_TXT, T_AAAA = 1, 2, 6, 16, 28


def write_atomically(path, text):
    """Write a file the way an operator's tooling should: temp file + rename."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


# --------------------------------------------------------------------------
# dig
# --------------------------------------------------------------------------

_HEADER_RE = re.compile(r";; ->>HEADER<<- opcode: (\S+), status: (\S+), id: (\d+)")
_FLAGS_RE = re.compile(r";; flags:([^;]*);")
_COUNTS_RE = re.compile(
    r"QUERY: (\d+), ANSWER: (\d+), AUTHORITY: (\d+), ADDITIONAL: (\d+)")
_EDNS_RE = re.compile(
    r"; EDNS: version: (\d+), flags:([^;]*);(?: MBZ: (\S+),)? udp: (\d+)")
_SIZE_RE = re.compile(r";; MSG SIZE\s+rcvd: (\d+)")
_SECTIONS = {
    ";; QUESTION SECTION:": "question",
    ";; ANSWER SECTION:": "answer",
    ";; AUTHORITY SECTION:": "authority",
    ";; ADDITIONAL SECTION:": "additional",
    ";; OPT PSEUDOSECTION:": "opt",
}


def parse_dig(text):
    """Parse dig's full (default) text output for ONE reply.

    Returns a dict:
      rcode      'NOERROR', 'NXDOMAIN', 'BADVERS', ... (None if no reply)
      opcode     'QUERY', ...
      id         message id (int)
      flags      set of header flags, e.g. {'qr', 'aa'}
      counts     (qd, an, ns, ar) as printed by dig (ar counts the OPT RR)
      question   [(name, class, type)]   names with the case as printed
      answer, authority, additional: [(name, ttl, type, rdata)] where
                 ttl is an int and rdata is dig's text, whitespace-collapsed
      edns       None, or {'udp': int, 'flags': set, 'version': int,
                 'mbz': str or None, 'options': [raw option lines]}
      size       reply size in octets from ';; MSG SIZE  rcvd:' (or None)
      raw        the input text
    """
    res = {"rcode": None, "opcode": None, "id": None, "flags": set(),
           "counts": None, "question": [], "answer": [], "authority": [],
           "additional": [], "edns": None, "size": None, "raw": text}
    section = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            if section != "opt":
                section = None
            continue
        m = _HEADER_RE.match(stripped)
        if m:
            res["opcode"], res["rcode"], res["id"] = m.group(1), m.group(2), int(m.group(3))
            continue
        if stripped.startswith(";; flags:"):
            m = _FLAGS_RE.match(stripped)
            if m:
                res["flags"] = set(m.group(1).split())
            m = _COUNTS_RE.search(stripped)
            if m:
                res["counts"] = tuple(int(x) for x in m.groups())
            continue
        if stripped in _SECTIONS:
            section = _SECTIONS[stripped]
            if section == "opt":
                res["edns"] = {"udp": None, "flags": set(), "version": None,
                               "mbz": None, "options": []}
            continue
        if stripped.startswith(";; MSG SIZE"):
            m = _SIZE_RE.match(stripped)
            if m:
                res["size"] = int(m.group(1))
            section = None
            continue
        if section == "opt":
            m = _EDNS_RE.match(stripped)
            if m:
                res["edns"].update(version=int(m.group(1)),
                                   flags=set(m.group(2).split()),
                                   mbz=m.group(3), udp=int(m.group(4)))
            elif stripped.startswith("; "):
                res["edns"]["options"].append(stripped[2:])
            continue
        if section == "question":
            if stripped.startswith(";") and not stripped.startswith(";;"):
                parts = stripped[1:].split()
                if len(parts) >= 3:
                    res["question"].append((parts[0], parts[1], parts[2]))
            continue
        if section in ("answer", "authority", "additional"):
            if stripped.startswith(";"):
                continue
            parts = stripped.split(None, 4)
            if len(parts) < 4:
                continue
            name, ttl, _klass, rtype = parts[:4]
            rdata = " ".join(parts[4].split()) if len(parts) > 4 else ""
            res[section].append((name, int(ttl), rtype, rdata))
    return res


def run_dig(port, name, qtype="A", *opts, host="127.0.0.1", tcp=False, timeout=2):
    """One dig query (no recursion, no cookie, one try of `timeout` s): the
    parse_dig() dict plus 'cmd' (the command line) and 'exit' (dig's status)."""
    args = [DIG, "@" + host, "-p", str(port), "+norec", "+nocookie",
            "+time=%d" % timeout, "+tries=1"]
    if tcp:
        args.append("+tcp")
    args += list(opts) + [name, qtype]
    if VERBOSE:
        print(" ".join(args), file=sys.stderr)
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=20)
    r = parse_dig(p.stdout)
    r["cmd"] = " ".join(args)
    r["exit"] = p.returncode
    return r


def lower_rrs(rrs):
    """Normalise owner names to lower case for comparisons."""
    return [(n.lower(), t, ty, rd) for (n, t, ty, rd) in rrs]


# --------------------------------------------------------------------------
# wire format
# --------------------------------------------------------------------------

def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode("ascii")
    return out + b"\x00"


def build_query(qid, name, qtype=T_A, qclass=1, flags=0, qdcount=1, questions=None):
    """A query; `questions` [(name, type, class)] replaces (name, qtype, qclass)
    and `qdcount` may lie about how many there are."""
    if questions is None:
        questions = [(name, qtype, qclass)]
    hdr = struct.pack("!HHHHHH", qid, flags, qdcount, 0, 0, 0)
    return hdr + b"".join(encode_name(n) + struct.pack("!HH", t, c) for (n, t, c) in questions)


def parse_header(msg):
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    return {"id": qid, "qr": bool(flags & 0x8000), "opcode": (flags >> 11) & 0xF,
            "aa": bool(flags & 0x0400), "tc": bool(flags & 0x0200),
            "rd": bool(flags & 0x0100), "ra": bool(flags & 0x0080),
            "rcode": flags & 0xF, "qd": qd, "an": an, "ns": ns, "ar": ar}


def read_name(msg, off):
    """Decode a (possibly compressed) name; return (lower-case text, next offset)."""
    labels, end, hops = [], None, 0
    while True:
        if off >= len(msg):
            raise ValueError("name runs past the message")
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if off + 1 >= len(msg):
                raise ValueError("truncated compression pointer")
            if end is None:
                end = off + 2
            off = ((n & 0x3F) << 8) | msg[off + 1]
            hops += 1
            if hops > 64:
                raise ValueError("compression loop")
            continue
        if n & 0xC0:
            raise ValueError("bad label type")
        off += 1
        if n == 0:
            break
        labels.append(msg[off:off + n].decode("ascii", "replace").lower())
        off += n
    return ".".join(labels) + ".", (end if end is not None else off)


def parse_message(msg):
    """Header, raw question bytes ('question_wire'), and answer/authority RRs
    [(owner, type, class, ttl, rdata)]; ValueError when it is malformed."""
    if len(msg) < 12:
        raise ValueError("reply shorter than a header (%d octets)" % len(msg))
    h = parse_header(msg)
    off = 12
    for _ in range(h["qd"]):
        _, off = read_name(msg, off)
        off += 4
    if off > len(msg):
        raise ValueError("question runs past the message")
    h["question_wire"] = msg[12:off]
    for section, count in (("answer", h["an"]), ("authority", h["ns"])):
        rrs = []
        for _ in range(count):
            owner, off = read_name(msg, off)
            if off + 10 > len(msg):
                raise ValueError("RR header runs past the message")
            rtype, rclass, ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
            off += 10
            if off + rdlen > len(msg):
                raise ValueError("RDATA runs past the message")
            rrs.append((owner, rtype, rclass, ttl, msg[off:off + rdlen]))
            off += rdlen
        h[section] = rrs
    return h


def soa_serial(rdata):
    """SERIAL is the first of the five 32-bit fields that end the SOA RDATA."""
    return struct.unpack("!I", rdata[-20:-16])[0]


def tcp_frame(msg):
    return struct.pack("!H", len(msg)) + msg


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("TCP connection closed after %d of %d octets"
                                  % (len(buf), n))
        buf += chunk
    return buf


def recv_tcp_msg(sock):
    (length,) = struct.unpack("!H", recv_exact(sock, 2))
    return recv_exact(sock, length)
