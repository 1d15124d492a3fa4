#!/usr/bin/env python3
"""DNSSEC key rollovers driven by anamectl, with a validating unbound checking every step,
and signatures made again before they expire.

Names added and then deleted at runtime (one below an empty non-terminal) validate,
present and then absent, with NSEC and with NSEC3, and are patched into the live snapshot
rather than compiled again. ZSK
pre-publish: a standby ZSK is published without signing; `zone key activate` of the new
one and `zone key retire` of the old one move the signatures; `zone key remove` takes the
old one out of the DNSKEY RRset. KSK double-DS: a standby KSK is in `zone ds` but not in
DNSKEY; unbound's trust anchor holds both DS (as the parent would); the new KSK is
activated and the old removed; then the new DS alone validates. Refusals: a step that would
leave the zone without an active key. The key files keep mode 0600 through each step.

The re-sign timer: with `validity: 10800, refresh: 10785` signatures come due 15 s after
they are made; without any change to the zone, the SOA's and an ALIAS owner's RRSIGs get a
later expiration.

Environment and how to run it: see tests/integration/anamedtest.py.
"""

import glob
import os
import shutil
import stat
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402
from anamedtest import main  # noqa: E402
from controltest import ZONE, ControlTest, base_zone  # noqa: E402
from validator import Unbound  # noqa: E402

APEX = ZONE + "."


class RolloverTest(ControlTest):
    SIGN = "{policy: sign, key-dir: keys, algorithm: ecdsap256sha256}"

    def setUp(self):
        if shutil.which("unbound") is None:
            raise unittest.SkipTest("missing unbound")
        super().setUp()
        self.unbound = None
        self.addCleanup(lambda: self.unbound and self.unbound.stop())

    def daemon_args(self):
        conf = os.path.join(self.dir, "anamed.yaml")
        self.keys = os.path.join(self.dir, "keys")
        os.makedirs(self.keys, exist_ok=True)
        with open(conf, "w") as f:
            f.write("listen: [\"127.0.0.1:%d\"]\n" % self.port)
            f.write("control: {socket: %s}\n" % self.sock_path)
            f.write("journal: %s\n" % self.journal)
            f.write("zones:\n  - name: %s\n    file: %s\n    dnssec: %s\n"
                    % (ZONE, self.zfile, self.SIGN))
        return ["--config", conf]

    def direct(self, name, qtype):
        q = dns.message.make_query(name, qtype, want_dnssec=True)
        q.flags &= ~dns.flags.RD
        return dns.query.udp(q, "127.0.0.1", port=self.port, timeout=3)

    def sig_tags(self, name, qtype):
        covered = dns.rdatatype.from_text(qtype)
        return sorted(rd.key_tag for rr in self.direct(name, qtype).answer
                      if rr.rdtype == dns.rdatatype.RRSIG for rd in rr if rd.type_covered == covered)

    def dnskey_tags(self):
        return sorted(dns.dnssec.key_id(rd) for rr in self.direct(APEX, "DNSKEY").answer
                      if rr.rdtype == dns.rdatatype.DNSKEY for rd in rr)

    def key(self, *args):
        out = self.ctl_json("zone", "key", *args)
        self.assertTrue(out["ok"], out)
        return out["key"]

    def assertValidates(self, ds_lines):
        """A fresh unbound (each step of a rollover waits out the TTLs of the one before,
        so nothing it cached then matters) with these DS as its trust anchors validates
        positive answers, an ALIAS owner's, the DNSKEY RRset and NXDOMAIN."""
        if self.unbound:
            self.unbound.stop()
        anchors = '"\n  trust-anchor: "'.join(ds_lines)
        self.unbound = Unbound(self.dir, self.port, anchors, (APEX,))
        for name, qtype in (("www." + APEX, "A"), ("web." + APEX, "A"), (APEX, "DNSKEY"),
                            ("nothere." + APEX, "A")):
            r = self.unbound.query(name, qtype)
            self.assertIn(r.rcode(), (dns.rcode.NOERROR, dns.rcode.NXDOMAIN), str(r))
            self.assertTrue(r.flags & dns.flags.AD, "%s %s not validated:\n%s" % (name, qtype, r))


    def assertPrivate(self):
        for p in glob.glob(os.path.join(self.keys, "*.private")):
            self.assertEqual(stat.S_IMODE(os.stat(p).st_mode), 0o600, p)


import dns.dnssec  # noqa: E402


class TestRollover(RolloverTest):

    def test_zsk_prepublish_and_ksk_double_ds(self):
        self.start(base_zone())
        ksk = self.key("generate", ZONE, "ksk")["tag"]
        zsk = self.key("generate", ZONE, "zsk")["tag"]
        ds = self.ctl_json("zone", "ds", ZONE)["ds"]
        self.assertValidates(ds)
        self.assertEqual(self.sig_tags("www." + APEX, "A"), [zsk])

        # ZSK pre-publish.
        new_zsk = self.key("generate", ZONE, "zsk", "standby")
        self.assertEqual(new_zsk["state"], "published")
        self.assertEqual(self.dnskey_tags(), sorted([ksk, zsk, new_zsk["tag"]]))
        self.assertEqual(self.sig_tags("www." + APEX, "A"), [zsk])  # not signing yet
        self.assertValidates(ds)
        self.assertEqual(self.key("activate", ZONE, str(new_zsk["tag"]))["state"], "active")
        self.assertEqual(self.key("retire", ZONE, str(zsk))["state"], "retired")
        self.assertEqual(self.sig_tags("www." + APEX, "A"), [new_zsk["tag"]])
        self.assertEqual(self.sig_tags("web." + APEX, "A"), [new_zsk["tag"]])  # ALIAS owner
        self.assertIn(zsk, self.dnskey_tags())  # still published: cached signatures verify
        self.assertValidates(ds)
        self.assertEqual(self.key("remove", ZONE, str(zsk))["state"], "removed")
        self.assertEqual(self.dnskey_tags(), sorted([ksk, new_zsk["tag"]]))
        self.assertValidates(ds)
        self.assertPrivate()

        # KSK double-DS: the new DS goes to the parent before the DNSKEY changes.
        new_ksk = self.key("generate", ZONE, "ksk", "standby")
        self.assertEqual(new_ksk["state"], "standby")
        self.assertNotIn(new_ksk["tag"], self.dnskey_tags())
        both = self.ctl_json("zone", "ds", ZONE)["ds"]
        self.assertEqual(len(both), 2, both)
        self.assertValidates(both)
        self.key("activate", ZONE, str(new_ksk["tag"]))
        self.key("remove", ZONE, str(ksk))
        self.assertEqual(self.dnskey_tags(), sorted([new_ksk["tag"], new_zsk["tag"]]))
        self.assertEqual(self.sig_tags(APEX, "DNSKEY"), [new_ksk["tag"]])
        self.assertValidates(both)
        only_new = self.ctl_json("zone", "ds", ZONE)["ds"]
        self.assertEqual([int(d.split()[4]) for d in only_new], [new_ksk["tag"]])
        self.assertValidates(only_new)
        self.assertPrivate()

    def test_a_step_that_leaves_no_signer_is_refused(self):
        self.start(base_zone())
        ksk = self.key("generate", ZONE, "ksk")["tag"]
        self.key("generate", ZONE, "zsk")
        self.refused("zone", "key", "remove", ZONE, str(ksk), match="no active key")
        self.refused("zone", "key", "retire", ZONE, "1", match="no key 1")
        self.refused("zone", "key", "activate", ZONE, "x", match="TAG")
        self.assertIn(ksk, self.dnskey_tags())
        self.assertAlive()


class TestResignTimer(RolloverTest):
    SIGN = "{policy: sign, key-dir: keys, validity: 10800, refresh: 10785, jitter: 0}"

    def expiration(self, name, qtype):
        covered = dns.rdatatype.from_text(qtype)
        exps = [rd.expiration for rr in self.direct(name, qtype).answer
                if rr.rdtype == dns.rdatatype.RRSIG for rd in rr if rd.type_covered == covered]
        self.assertEqual(len(exps), 1, (name, qtype))
        return exps[0]

    def test_signatures_are_made_again_before_they_expire(self):
        self.start(base_zone())
        self.key("generate", ZONE, "csk")
        soa, web = self.expiration(APEX, "SOA"), self.expiration("web." + APEX, "A")
        self.assertLess(abs(soa - (time.time() + 10800)), 60)
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            if self.expiration(APEX, "SOA") > soa and self.expiration("web." + APEX, "A") > web:
                break
            time.sleep(1)
        else:
            self.fail("signatures were not made again:\n" + self.server.log()[-3000:])
        self.assertIn("signing them again", self.server.log())


class RuntimeChanges(RolloverTest):
    """Names added and deleted in a signed zone, and a record added beside an ALIAS, are
    patched into the live snapshot (the zone is not compiled again), and every answer
    about them validates."""

    def validated(self, name, qtype, rcode):
        r = self.unbound.query(name, qtype)
        self.assertEqual(r.rcode(), rcode, "%s %s:\n%s" % (name, qtype, r))
        self.assertTrue(r.flags & dns.flags.AD, "%s %s not validated:\n%s" % (name, qtype, r))

    def test_names_added_then_deleted_validate_and_are_patched_in(self):
        self.start(base_zone())
        self.key("generate", ZONE, "csk")
        self.assertValidates(self.ctl_json("zone", "ds", ZONE)["ds"])
        compiled = self.server.log().count("compiled:")
        self.change_ok("record", "add", ZONE, "new", "A", "192.0.2.9")
        self.validated("new." + APEX, "A", dns.rcode.NOERROR)
        self.validated("new." + APEX, "AAAA", dns.rcode.NOERROR)  # NODATA, proven
        self.validated("new2." + APEX, "A", dns.rcode.NXDOMAIN)   # next to it
        # Below a name that does not exist: an empty non-terminal comes with it.
        self.change_ok("record", "add", ZONE, "a.b.deep", "TXT", "x")
        self.validated("a.b.deep." + APEX, "TXT", dns.rcode.NOERROR)
        self.validated("b.deep." + APEX, "A", dns.rcode.NOERROR)  # the empty non-terminal
        self.validated("c.b.deep." + APEX, "A", dns.rcode.NXDOMAIN)
        self.change_ok("record", "delete", ZONE, "new")
        self.validated("new." + APEX, "A", dns.rcode.NXDOMAIN)  # the chain closed over it
        # Beside an ALIAS record: the owner keeps its signed addresses.
        self.change_ok("record", "add", ZONE, "web", "TXT", "beside the alias")
        self.validated("web." + APEX, "TXT", dns.rcode.NOERROR)
        self.validated("web." + APEX, "A", dns.rcode.NOERROR)
        self.assertEqual(self.sig_tags("web." + APEX, "A"), self.sig_tags("www." + APEX, "A"))
        log = self.server.log()
        self.assertEqual(log.count("compiled:"), compiled, log[-3000:])
        self.assertEqual(log.count("patched "), 4, log[-3000:])
        # Emptying a non-terminal is structural: compiled again, and it validates too.
        self.change_ok("record", "delete", ZONE, "a.b.deep")
        self.validated("a.b.deep." + APEX, "TXT", dns.rcode.NXDOMAIN)
        self.validated("b.deep." + APEX, "A", dns.rcode.NXDOMAIN)
        self.validated("www." + APEX, "A", dns.rcode.NOERROR)


class RuntimeChangesNsec3(RuntimeChanges):
    SIGN = "{policy: sign, key-dir: keys, algorithm: ecdsap256sha256, nsec3: true}"


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
