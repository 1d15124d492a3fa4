#!/usr/bin/python3
"""dnspython's side of the TSIG interop tests (tests/unit/tsig_test.cpp, tsig_stream_test.cpp).

Every command takes the key first (NAME ALGORITHM BASE64-SECRET) and reads or writes DNS
messages in wire format as files. Verifying commands print "ok ..." or the name of the
exception dnspython raised, and exit 0 either way; a crash exits non-zero.

  sign-query  KEY OUT QNAME QTYPE [ORIGINAL-ID]   a signed query, as a client would send it
  verify-query KEY QUERY                          dnspython as a server checks a request
  reply       KEY QUERY OUT [TSIG-ERROR]          a signed reply to QUERY
  verify-reply KEY QUERY REPLY [REQUEST-MAC-HEX]  a reply's TSIG over the request's MAC
  verify-error KEY QUERY REPLY [REQUEST-MAC-HEX] a TSIG error reply's MAC, no time check
  sign-stream KEY QUERY OUTPREFIX COUNT [UNSIGNED-INDEXES]  a transfer, OUTPREFIX.0 ...
  verify-stream KEY QUERY MSG...                  a transfer, every message in order
"""
import sys

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import dns.tsig

ALGORITHMS = {
    "hmac-md5": dns.tsig.HMAC_MD5,
    "hmac-sha1": dns.tsig.HMAC_SHA1,
    "hmac-sha224": dns.tsig.HMAC_SHA224,
    "hmac-sha256": dns.tsig.HMAC_SHA256,
    "hmac-sha384": dns.tsig.HMAC_SHA384,
    "hmac-sha512": dns.tsig.HMAC_SHA512,
}


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def keyring_of(name, algorithm, secret):
    key = dns.tsig.Key(name, secret, ALGORITHMS[algorithm])
    return {key.name: key}, key


def report(fn):
    try:
        print(fn())
    except Exception as e:  # the exception's class is the answer the test checks
        print(type(e).__name__)


def answer_for(query, index):
    r = dns.message.make_response(query)
    r.flags |= dns.flags.AA
    name = query.question[0].name
    r.answer.append(dns.rrset.from_text(name, 300, "IN", "A", f"192.0.2.{index + 1}"))
    return r


def main(argv):
    cmd, (name, algorithm, secret), args = argv[1], argv[2:5], argv[5:]
    keyring, key = keyring_of(name, algorithm, secret)
    if cmd == "sign-query":
        q = dns.message.make_query(args[1], dns.rdatatype.from_text(args[2]))
        original_id = int(args[3]) if len(args) > 3 else None
        q.use_tsig(keyring, key.name, algorithm=key.algorithm, original_id=original_id)
        write(args[0], q.to_wire())
    elif cmd == "verify-query":
        report(lambda: "ok mac=" + dns.message.from_wire(read(args[0]), keyring=keyring).mac.hex())
    elif cmd == "reply":
        q = dns.message.from_wire(read(args[0]), keyring=keyring)
        r = answer_for(q, 0)
        if len(args) > 2:
            r.use_tsig(keyring, key.name, algorithm=key.algorithm, tsig_error=int(args[2]))
        write(args[1], r.to_wire())
    elif cmd == "verify-reply":
        if len(args) > 2:
            mac = bytes.fromhex(args[2])
        else:
            mac = dns.message.from_wire(read(args[0]), keyring=keyring).mac
        report(lambda: "ok rcode=%d" % dns.message.from_wire(
            read(args[1]), keyring=keyring, request_mac=mac).rcode())
    elif cmd == "verify-error":
        verify_error(keyring, args)
    elif cmd == "sign-stream":
        sign_stream(keyring, args)
    elif cmd == "verify-stream":
        q = dns.message.from_wire(read(args[0]), keyring=keyring)

        def stream():
            ctx, m = None, None
            for path in args[1:]:
                m = dns.message.from_wire(read(path), keyring=keyring, request_mac=q.mac,
                                          tsig_ctx=ctx, multi=True)
                ctx = m.tsig_ctx
            return "ok last-signed=%d" % m.had_tsig
        report(stream)
    else:
        sys.exit("unknown command " + cmd)


def verify_error(keyring, args):
    """dnspython's own digest check, minus the two things it does first with an error reply:
    raise the peer's error, and check the time (a BADTIME reply carries the client's time)."""
    seen = {}

    def validate(wire, key, owner, rdata, now, request_mac, tsig_start, ctx=None, multi=False):
        seen["error"], seen["other"], seen["time"] = rdata.error, rdata.other, rdata.time_signed
        if len(rdata.mac) == 0:
            seen["mac"] = "empty"
            return None
        adcount = int.from_bytes(wire[10:12], "big") - 1
        new_wire = wire[0:10] + adcount.to_bytes(2, "big") + wire[12:tsig_start]
        ctx = dns.tsig._digest(new_wire, key, rdata, None, request_mac, ctx, multi)
        ctx.verify(rdata.mac)
        seen["mac"] = "verified"
        return None

    mac = dns.message.from_wire(read(args[0]), keyring=keyring).mac
    if len(args) > 2:
        mac = bytes.fromhex(args[2])
    dns.tsig.validate = validate

    def check():
        r = dns.message.from_wire(read(args[1]), keyring=keyring, request_mac=mac)
        return "ok mac=%s error=%d rcode=%d time=%d other=%s" % (
            seen["mac"], seen["error"], r.rcode(), seen["time"], seen["other"].hex())
    report(check)


def sign_stream(keyring, args):
    q = dns.message.from_wire(read(args[0]), keyring=keyring)
    unsigned = {int(i) for i in args[3].split(",")} if len(args) > 3 else set()
    ctx = None
    for i in range(int(args[2])):
        r = answer_for(q, i)
        if i in unsigned:
            r.tsig, r.keyring = None, None
            wire = r.to_wire()
            ctx.update(wire)
        else:
            wire = r.to_wire(multi=True, tsig_ctx=ctx)
            ctx = r.tsig_ctx
        write("%s.%d" % (args[1], i), wire)


if __name__ == "__main__":
    main(sys.argv)
