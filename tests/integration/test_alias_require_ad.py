#!/usr/bin/env python3
"""alias: {require-ad: true}: upstream lookups ask with DO=1 and only replies with AD set
count; a reply without AD is a failure (the last good answer keeps serving within the stale
limit). Without the option, lookups ask with DO=0 and take replies with or without AD.
fake_upstream.py sets AD per name ("ad" in its control file). With unbound, Knot and
ldns-signzone installed, the same against a real validating resolver: unbound validating a
zone signed offline (its key as unbound's trust anchor) and an unsigned one, both served by
Knot; only the signed target resolves.

Environment and how to run it: see tests/integration/anamedtest.py.
"""

import glob
import os
import shutil
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
import fake_upstream  # noqa: E402
from anamedtest import main, pick_free_port  # noqa: E402
from aliastest import AliasTest, find_tool, rec, rrs, wait_until  # noqa: E402
from peers import Knot, PrimaryZone  # noqa: E402

ZONE = """$ORIGIN ad.test.
$TTL 300
@      SOA ns1 hostmaster 1 7200 3600 1209600 300
@      NS  ns1
ns1    A   192.0.2.1
signed ALIAS lb.signed.
plain  ALIAS lb.plain.
"""


def control(signed_ad=True):
    signed = rec(["203.0.113.10"], ["2001:db8::10"], 2)
    signed["ad"] = signed_ad
    return {"mode": "normal", "records": {
        "lb.signed.": signed, "lb.plain.": rec(["203.0.113.20"], ["2001:db8::20"], 2)}}


def queries(state_dir, name):
    return [q for q in fake_upstream.read_counts(state_dir)["recent"]
            if q["qname"].lower() == name]


class TestRequireAd(AliasTest):

    @classmethod
    def start_servers(cls):
        cls.fake_dir, cls.fake_port = cls.start_fake("upstream", control())
        cls.start_anamed([("ad.test", ZONE)], [cls.fake_port], refresh_min=1, refresh_max=2,
                         stale_limit=3600, alias_extra=["require-ad: true"])

    def test_only_validated_answers_count(self):
        signed, plain = "signed.ad.test.", "plain.ad.test."
        self.poll_answer(signed, "A", ["203.0.113.10"], 5)
        self.assertAnswer(self.dig(signed, "AAAA"), rrs(signed, 2, "AAAA", ["2001:db8::10"]))
        # No AD: never accepted, so never resolved.
        self.assertServfail(self.dig(plain, "A"))
        self.assertServfail(self.dig(plain, "AAAA"))
        self.assertRegex(self.read_log(), r"lb\.plain\.: lookup failed \(reply from "
                         r"127\.0\.0\.1:%d without AD" % self.fake_port)
        sent = queries(self.fake_dir, "lb.signed.") + queries(self.fake_dir, "lb.plain.")
        self.assertTrue(sent)
        self.assertTrue(all(q["do"] for q in sent), sent)

        # The signed target's upstream stops validating: the last good answer stays.
        since = len(self.read_log())
        fake_upstream.write_control(self.fake_dir, control(signed_ad=False))
        self.wait_log(r"lb\.signed\.: lookup failed \(reply from .* without AD.*serving the "
                      r"last good addresses", 6, since)
        self.assertAnswer(self.dig(signed, "A"), rrs(signed, 2, "A", ["203.0.113.10"]))


class TestAdNotRequired(AliasTest):

    @classmethod
    def start_servers(cls):
        cls.fake_dir, cls.fake_port = cls.start_fake("upstream", control())
        cls.start_anamed([("ad.test", ZONE)], [cls.fake_port])

    def test_answers_with_or_without_ad(self):
        signed, plain = "signed.ad.test.", "plain.ad.test."
        self.poll_answer(signed, "A", ["203.0.113.10"], 5)
        self.poll_answer(plain, "A", ["203.0.113.20"], 5)
        self.assertAnswer(self.dig(plain, "AAAA"), rrs(plain, 2, "AAAA", ["2001:db8::20"]))
        sent = queries(self.fake_dir, "lb.plain.")
        self.assertTrue(sent)
        self.assertFalse(any(q["do"] for q in sent), sent)


TARGET_ZONE = """$ORIGIN %s.
$TTL 300
@   SOA ns hostmaster 1 7200 3600 1209600 300
@   NS  ns
ns  A   192.0.2.1
lb  A   %s
lb  AAAA %s
"""

UNBOUND_CONF = """server:
  interface: 127.0.0.1
  port: %(port)d
  do-ip6: no
  username: ""
  chroot: ""
  directory: "%(dir)s"
  pidfile: "%(dir)s/unbound.pid"
  use-syslog: no
  logfile: ""
  verbosity: 1
  do-not-query-localhost: no
  module-config: "validator iterator"
  trust-anchor-file: "%(anchor)s"
  access-control: 127.0.0.0/8 allow
  qname-minimisation: no
  local-zone: "." refuse
  local-zone: "signed.test." transparent
  local-zone: "plain.test." transparent
remote-control:
  control-enable: no
stub-zone:
  name: "signed.test"
  stub-addr: 127.0.0.1@%(knot)d
stub-zone:
  name: "plain.test"
  stub-addr: 127.0.0.1@%(knot)d
"""

UNBOUND_ZONE = """$ORIGIN ad.test.
$TTL 300
@  SOA ns1 hostmaster 1 7200 3600 1209600 300
@  NS  ns1
ns1 A  192.0.2.1
s  ALIAS lb.signed.test.
p  ALIAS lb.plain.test.
"""


@unittest.skipUnless(all(find_tool("", t) for t in ("unbound", "knotd", "ldns-signzone",
                                                        "ldns-keygen")),
                     "needs unbound, knotd and ldnsutils")
class TestRequireAdWithUnbound(AliasTest):

    @classmethod
    def start_servers(cls):
        d = os.path.join(cls.tmp, "keys")
        os.mkdir(d)
        files = {}
        for name, addrs in (("signed.test", ("203.0.113.30", "2001:db8::30")),
                            ("plain.test", ("203.0.113.40", "2001:db8::40"))):
            files[name] = os.path.join(d, name + ".zone")
            with open(files[name], "w") as f:
                f.write(TARGET_ZONE % ((name,) + addrs))
        base = subprocess.run([find_tool("", "ldns-keygen"), "-a", "ECDSAP256SHA256", "-k",
                               "signed.test"], cwd=d, check=True, capture_output=True,
                              text=True).stdout.strip()
        subprocess.run([find_tool("", "ldns-signzone"), files["signed.test"], base], cwd=d,
                       check=True, capture_output=True)
        shutil.copy(files["signed.test"] + ".signed", files["signed.test"])
        cls.knot = Knot(cls.tmp, pick_free_port(ipv6=False),
                        zones=[PrimaryZone(n, f) for n, f in files.items()])
        cls.addClassCleanup(cls.knot.stop)
        ub_dir = os.path.join(cls.tmp, "unbound")
        os.mkdir(ub_dir)
        ub_port = pick_free_port(ipv6=False)
        conf = os.path.join(ub_dir, "unbound.conf")
        with open(conf, "w") as f:
            f.write(UNBOUND_CONF % dict(port=ub_port, dir=ub_dir, knot=cls.knot.port,
                                        anchor=glob.glob(os.path.join(d, base + ".key"))[0]))
        ub = cls.spawn("unbound", [find_tool("", "unbound"), "-d", "-c", conf])

        def answers():
            if ub.poll() is not None:
                raise RuntimeError("unbound exited:\n" + cls.read_log("unbound"))
            r = subprocess.run(["dig", "+time=1", "+tries=1", "-p", str(ub_port), "@127.0.0.1",
                                "lb.signed.test", "A"], capture_output=True, text=True)
            return "status: NOERROR" in r.stdout and " ad" in r.stdout.split("flags:")[1][:40]
        if not wait_until(answers, 15, 0.2):
            raise RuntimeError("unbound did not validate lb.signed.test:\n" +
                               cls.read_log("unbound"))
        cls.start_anamed([("ad.test", UNBOUND_ZONE)], [ub_port], query_timeout_ms=2000,
                         alias_extra=["require-ad: true"])

    def test_only_the_signed_target_resolves(self):
        self.poll_answer("s.ad.test.", "A", ["203.0.113.30"], 8)
        self.poll_answer("s.ad.test.", "AAAA", ["2001:db8::30"], 3)
        self.assertServfail(self.dig("p.ad.test.", "A"))
        self.assertRegex(self.read_log(), r"lb\.plain\.test\.: lookup failed \(reply from .* "
                         r"without AD")


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
