#!/usr/bin/env python3
"""Runtime changes through the control socket (python3 stdlib only).

Each test starts its own anamed on a free port with a control socket and an
LMDB journal in a private temporary directory (controltest.ControlTest), and
stops it with SIGTERM (it must exit 0 within 5 s).  Covered:

  * record add / set / del for A AAAA MX TXT CNAME SRV CAA PTR NAPTR HTTPS
    SVCB, an NS delegation with glue and DS, and ALIAS, each seen over DNS
    (dig), with the SOA serial moving by exactly one per accepted command;
  * invalid changes refused with nothing applied: a batch whose 3rd change is
    invalid, CNAME beside data, a second ALIAS, an out-of-zone owner, bad
    RDATA, deleting the SOA or the apex NS; a batch of thousands of records
    in one transaction.

Environment and how to run it: see tests/integration/anamedtest.py.
"""

import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
from dnstest import VERBOSE  # noqa: E402
from anamedtest import main  # noqa: E402
from controltest import BASE_SERIAL, ZONE, ControlTest, base_zone, norm  # noqa: E402


# --------------------------------------------------------------------------
# add / change / delete every common type, seen over DNS
# --------------------------------------------------------------------------

# owner, type, add RDATA, as dig shows it, set RDATA, as dig shows it
TYPES = [
    ("a", "A", "192.0.2.10", "192.0.2.10", "192.0.2.11", "192.0.2.11"),
    ("aaaa", "AAAA", "2001:db8::10", "2001:db8::10", "2001:db8::11", "2001:db8::11"),
    ("mx", "MX", "10 mail.example.net.", "10 mail.example.net.",
     "20 mx2", "20 mx2.ctl.test."),
    ("txt", "TXT", '"hello world" "two"', '"hello world" "two"',
     '"v=spf1 -all"', '"v=spf1 -all"'),
    ("cn", "CNAME", "www", "www.ctl.test.", "www2.ctl.test.", "www2.ctl.test."),
    ("_sip._tcp", "SRV", "10 20 5060 sip.example.net.", "10 20 5060 sip.example.net.",
     "0 5 5061 sip2.example.net.", "0 5 5061 sip2.example.net."),
    ("caa", "CAA", '0 issue "letsencrypt.org"', '0 issue "letsencrypt.org"',
     '128 iodef "mailto:sec@example.net"', '128 iodef "mailto:sec@example.net"'),
    ("10.rev", "PTR", "host.example.net.", "host.example.net.",
     "host2.example.net.", "host2.example.net."),
    ("naptr", "NAPTR", '100 10 "U" "E2U+sip" "!^.*$!sip:info@example.net!" .',
     '100 10 "U" "E2U+sip" "!^.*$!sip:info@example.net!" .',
     '200 20 "S" "SIP+D2U" "" _sip._udp.example.net.',
     '200 20 "S" "SIP+D2U" "" _sip._udp.example.net.'),
    ("https", "HTTPS", "1 . alpn=h2,h3 ipv4hint=192.0.2.1", '1 . alpn="h2,h3" ipv4hint=192.0.2.1',
     "2 svc.example.net. port=8443", "2 svc.example.net. port=8443"),
    ("_8443._https.svc", "SVCB", "1 svc.example.net. port=8443", "1 svc.example.net. port=8443",
     "0 other.example.net.", "0 other.example.net."),
]


class TestRecordTypes(ControlTest):

    def setUp(self):
        super().setUp()
        self.start(base_zone())
        self.expect_serial = BASE_SERIAL

    def accepted(self, *args):
        """An accepted command: the serial moves by exactly one, in the reply and over DNS."""
        got = self.change_ok(*args)
        self.expect_serial += 1
        self.assertEqual(got, self.expect_serial, "serial after anamectl %s" % " ".join(args))
        self.assertEqual(self.serial(), self.expect_serial, "SOA serial over DNS after %s" % " ".join(args))

    def test_add_change_delete_each_common_type(self):
        for i, (owner, rtype, add, add_dig, new, new_dig) in enumerate(TYPES):
            fqdn = owner + "." + ZONE + "."
            with self.subTest(rtype):
                self.accepted("record", "add", ZONE, owner, rtype, *add.split(" "))
                rcode, got, r = self.answer_rdata(fqdn, rtype)
                self.assertEqual((rcode, got), ("NOERROR", [norm(rtype, add_dig)]), r["cmd"] + "\n" + r["raw"])
                self.assertIn("aa", r["flags"], r["raw"])
                shown = self.ok("record", "show", ZONE, owner)
                self.assertIn("\t" + rtype + "\t", shown)

                self.accepted("record", "set", ZONE, owner, rtype, new)
                rcode, got, r = self.answer_rdata(fqdn, rtype)
                self.assertEqual((rcode, got), ("NOERROR", [norm(rtype, new_dig)]), r["cmd"] + "\n" + r["raw"])

                # del with the RDATA for half of the types, of the whole RRset for the others
                if i % 2 == 0:
                    self.accepted("record", "del", ZONE, owner, rtype, new)
                else:
                    self.accepted("record", "del", ZONE, owner, rtype)
                rcode, got, r = self.answer_rdata(fqdn, rtype)
                self.assertEqual((rcode, got), ("NXDOMAIN", []), r["cmd"] + "\n" + r["raw"])
                self.assertEqual(self.ok("record", "show", ZONE, owner).strip(), "")

    def test_rrset_add_del_ttl_and_cname_chase(self):
        self.accepted("record", "add", ZONE, "multi", "A", "192.0.2.10", "--ttl", "120")
        self.accepted("record", "add", ZONE, "multi", "A", "192.0.2.12", "--ttl", "120")
        r = self.dig("multi.ctl.test", "A")
        self.assertEqual(sorted((ttl, rd) for (_, ttl, t, rd) in r["answer"] if t == "A"),
                         [(120, "192.0.2.10"), (120, "192.0.2.12")], r["raw"])
        self.accepted("record", "del", ZONE, "multi", "A", "192.0.2.10")
        self.assertEqual(self.a_records("multi.ctl.test."), ("NOERROR", ["192.0.2.12"]))
        self.accepted("record", "add", ZONE, "multi", "TXT", '"beside"')
        self.accepted("record", "del", ZONE, "multi")          # everything at the name
        self.assertEqual(self.a_records("multi.ctl.test.")[0], "NXDOMAIN")
        # a CNAME added at runtime is followed to its in-zone target
        self.accepted("record", "add", ZONE, "alias-cn", "CNAME", "www")
        r = self.dig("alias-cn.ctl.test", "A")
        self.assertEqual([(n, t, rd) for (n, _, t, rd) in r["answer"]],
                         [("alias-cn.ctl.test.", "CNAME", "www.ctl.test."),
                          ("www.ctl.test.", "A", "192.0.2.1")], r["raw"])
        # the apex SOA can be replaced (set); the serial still moves by one past the new one
        rc = self.ctl("record", "set", ZONE, "@", "SOA", "ns1", "hostmaster", "5000", "7200", "3600",
                      "1209600", "300")
        self.assertEqual(rc.returncode, 0, rc.what)
        self.expect_serial = int(re.search(r"serial (\d+)", rc.stdout).group(1))
        self.assertIn(self.expect_serial, (5000, 5001), rc.stdout)
        self.assertEqual(self.serial(), self.expect_serial)
        self.accepted("record", "add", ZONE, "after-soa", "A", "192.0.2.99")

    def test_names_with_descendants_stay_as_empty_non_terminals(self):
        # Emptying a name that has a name below it leaves an empty non-terminal (NODATA, RFC
        # 8020's "nothing below" does not hold); emptying the last name below removes both.
        self.accepted("record", "add", ZONE, "leaf.branch", "A", "192.0.2.41")
        self.accepted("record", "add", ZONE, "branch", "TXT", '"own data"')
        self.accepted("record", "del", ZONE, "branch", "TXT")
        self.assertEqual(self.a_records("branch.ctl.test."), ("NOERROR", []))
        self.assertEqual(self.a_records("leaf.branch.ctl.test."), ("NOERROR", ["192.0.2.41"]))
        self.accepted("record", "del", ZONE, "leaf.branch")
        self.assertEqual(self.a_records("leaf.branch.ctl.test.")[0], "NXDOMAIN")
        self.assertEqual(self.a_records("branch.ctl.test.")[0], "NXDOMAIN")
        # added again after all that, both answer
        self.accepted("record", "add", ZONE, "leaf.branch", "A", "192.0.2.42")
        self.assertEqual(self.a_records("leaf.branch.ctl.test."), ("NOERROR", ["192.0.2.42"]))
        self.assertEqual(self.a_records("branch.ctl.test."), ("NOERROR", []))
        # a name whose only child went first has nothing below it any more
        self.accepted("record", "add", ZONE, "tip.stem", "A", "192.0.2.43")
        self.accepted("record", "add", ZONE, "stem", "TXT", '"own data"')
        self.accepted("record", "del", ZONE, "tip.stem")
        self.accepted("record", "del", ZONE, "stem", "TXT")
        self.assertEqual(self.a_records("stem.ctl.test.")[0], "NXDOMAIN")

    def test_ns_delegation_glue_and_ds(self):
        ds1 = "12345 13 2 2BB183AF5F22588179A53B0A98631FAD1A292118B2F7E6C1BFD6E1E8E8A8F2C3"
        ds2 = "54321 8 2 4E09BD1D8A8F3E4C4E3E1B8C4B5A8E4F0C0D1A2B3C4D5E6F708192A3B4C5D6E7"
        self.accepted("record", "add", ZONE, "sub", "NS", "ns.sub")
        self.accepted("record", "add", ZONE, "ns.sub", "A", "192.0.2.77")
        for qname in ("sub.ctl.test", "host.sub.ctl.test"):
            r = self.dig(qname, "A")
            self.assertEqual(r["rcode"], "NOERROR", r["raw"])
            self.assertNotIn("aa", r["flags"], "a referral is not authoritative:\n" + r["raw"])
            self.assertEqual(r["answer"], [], r["raw"])
            self.assertEqual([(n, t, rd) for (n, _, t, rd) in r["authority"]],
                             [("sub.ctl.test.", "NS", "ns.sub.ctl.test.")], r["raw"])
            self.assertIn(("ns.sub.ctl.test.", "A", "192.0.2.77"),
                          [(n, t, rd) for (n, _, t, rd) in r["additional"]], r["raw"])
        self.accepted("record", "add", ZONE, "sub", "DS", *ds1.split())
        rcode, got, r = self.answer_rdata("sub.ctl.test", "DS")
        self.assertEqual((rcode, got), ("NOERROR", [norm("DS", ds1)]), r["raw"])
        self.assertIn("aa", r["flags"], "the parent answers DS:\n" + r["raw"])
        self.accepted("record", "set", ZONE, "sub", "DS", ds2)
        self.assertEqual(self.answer_rdata("sub.ctl.test", "DS")[:2], ("NOERROR", [norm("DS", ds2)]))
        # move the delegation to another server
        self.accepted("record", "set", ZONE, "sub", "NS", "ns.example.net.")
        r = self.dig("www.sub.ctl.test", "A")
        self.assertEqual([(n, t, rd) for (n, _, t, rd) in r["authority"]],
                         [("sub.ctl.test.", "NS", "ns.example.net.")], r["raw"])
        self.accepted("record", "del", ZONE, "sub", "DS")
        self.accepted("record", "del", ZONE, "sub", "NS", "ns.example.net.")
        self.accepted("record", "del", ZONE, "ns.sub", "A")
        r = self.dig("www.sub.ctl.test", "A")
        self.assertEqual(r["rcode"], "NXDOMAIN", r["raw"])
        self.assertIn("aa", r["flags"], r["raw"])

    def test_alias_add_change_delete(self):
        self.accepted("record", "add", ZONE, "al", "ALIAS", "www")
        self.assertEqual(self.a_records("al.ctl.test."), ("NOERROR", ["192.0.2.1"]))
        r = self.dig("al.ctl.test", "A")
        self.assertEqual([(n, t, rd) for (n, _, t, rd) in r["answer"]],
                         [("al.ctl.test.", "A", "192.0.2.1")], "ALIAS answers as A at the owner\n" + r["raw"])
        self.accepted("record", "set", ZONE, "al", "ALIAS", "www2.ctl.test.")
        self.assertEqual(self.a_records("al.ctl.test."), ("NOERROR", ["192.0.2.2"]))
        rcode, got, r = self.answer_rdata("al.ctl.test", "AAAA")
        self.assertEqual((rcode, got), ("NOERROR", ["2001:db8::2"]), r["raw"])
        # ALIAS coexists with other data at the name (that is its point)
        self.accepted("record", "add", ZONE, "al", "MX", "10", "mail.example.net.")
        self.assertEqual(self.answer_rdata("al.ctl.test", "MX")[:2], ("NOERROR", ["10 mail.example.net."]))
        self.accepted("record", "del", ZONE, "al", "ALIAS")
        rcode, got, r = self.answer_rdata("al.ctl.test", "A")
        self.assertEqual((rcode, got), ("NOERROR", []), "NODATA once the ALIAS is gone\n" + r["raw"])
        self.accepted("record", "del", ZONE, "al", "MX", "10 mail.example.net.")
        self.assertEqual(self.a_records("al.ctl.test.")[0], "NXDOMAIN")
        # the file's ALIAS keeps working throughout
        self.assertEqual(self.a_records("web.ctl.test."), ("NOERROR", ["192.0.2.1"]))


# --------------------------------------------------------------------------
# invalid changes: refused, nothing applied
# --------------------------------------------------------------------------

class TestValidation(ControlTest):

    def setUp(self):
        super().setUp()
        self.start(base_zone())

    def snapshot_state(self):
        st = self.status()
        return (self.serial(), st["journal_entries"], st["changes_applied"],
                self.a_records("www.ctl.test."), self.a_records("web.ctl.test."),
                self.ok("record", "show", ZONE, "@"))

    def assertNothingVisible(self, names):
        for n in names:
            rcode, addrs = self.a_records(n + ".ctl.test.")
            self.assertEqual(rcode, "NXDOMAIN", "%s is visible after a refused change" % n)

    def test_batch_with_an_invalid_third_change_applies_nothing(self):
        before = self.snapshot_state()
        cases = {
            "CNAME beside data": ("add ctl.test www CNAME www2", r"change 3: CNAME beside"),
            "bad RDATA": ("add ctl.test b3 A 192.0.2.300", r"change 3: .*(?i:syntax)"),
            "out-of-zone owner": ("add ctl.test host.example.org. A 192.0.2.3", r"change 3: .*not in zone"),
            "second ALIAS": ("add ctl.test web ALIAS www2", r"change 3: more than one ALIAS"),
            "delete the SOA": ("del ctl.test @ SOA", r"change 3: .*SOA"),
            # a whole-zone rule: checked after the last change, so no change number
            "delete the apex NS": ("del ctl.test @ NS", r"apex NS"),
            "unserved zone": ("add other.test b3 A 192.0.2.3", r"change 3: .*other\.test"),
        }
        for what, (third, pattern) in cases.items():
            with self.subTest(what):
                path = self.write("batch.txt",
                                  "# a comment and a blank line are skipped\n\n"
                                  "add ctl.test b1 A 192.0.2.21\n"
                                  "add ctl.test b2 300 TXT \"two words\"\n"
                                  + third + "\n"
                                  "add ctl.test b4 A 192.0.2.24\n")
                err = self.refused("record", "batch", path, match=pattern)
                self.assertIn("nothing was changed", err)
                self.assertNothingVisible(["b1", "b2", "b3", "b4"])
                self.assertEqual(self.snapshot_state(), before)
        # the same batch with a valid third change: one transaction, one serial
        path = self.write("batch.txt", "add ctl.test b1 A 192.0.2.21\n"
                                       "add ctl.test b2 300 TXT \"two words\"\n"
                                       "add ctl.test b3 A 192.0.2.23\n"
                                       "add ctl.test b4 A 192.0.2.24\n")
        self.assertEqual(self.change_ok("record", "batch", path), BASE_SERIAL + 1)
        self.assertEqual(self.serial(), BASE_SERIAL + 1)
        for n, a in (("b1", "192.0.2.21"), ("b3", "192.0.2.23"), ("b4", "192.0.2.24")):
            self.assertEqual(self.a_records(n + ".ctl.test."), ("NOERROR", [a]))
        r = self.dig("b2.ctl.test", "TXT")
        self.assertEqual([(ttl, rd) for (_, ttl, t, rd) in r["answer"]], [(300, '"two words"')], r["raw"])
        st = self.status()
        self.assertEqual((st["journal_entries"], st["changes_applied"]), (1, 4))

    def test_single_invalid_changes_are_refused(self):
        before = self.snapshot_state()
        cases = [
            (("add", "www", "CNAME", "www2"), r"CNAME beside other data"),
            (("add", "web", "CNAME", "www"), r"CNAME beside other data"),
            (("add", "web", "ALIAS", "www2"), r"more than one ALIAS"),
            (("add", "host.example.org.", "A", "192.0.2.1"), r"not in zone"),
            (("add", "www.ctl.testing.", "A", "192.0.2.1"), r"not in zone"),
            (("add", "bad", "A", "192.0.2.300"), r"(?i)syntax|rdata"),
            (("add", "bad", "AAAA", "2001:db8::zz"), r"(?i)syntax|rdata"),
            (("add", "bad", "MX", "mail.example.net."), r"(?i)syntax|rdata"),
            (("add", "bad", "SRV", "10", "20", "sip.example.net."), r"(?i)syntax|rdata"),
            (("add", "bad", "CAA", "0", "issue"), r"(?i)syntax|value"),
            (("add", "bad", "DS", "1", "2"), r"(?i)syntax|value"),
            (("add", "bad", "CNAME", "a", "b"), r"(?i)syntax|superfluous"),
            (("add", "bad", "BOGUSTYPE", "1"), r"(?i)syntax|rdata|unknown"),
            (("add", "bad..name", "A", "192.0.2.1"), r"(?i)not a valid name|syntax|label|empty"),
            (("del", "@", "SOA"), r"SOA"),
            (("add", "@", "SOA", "ns1 hostmaster 1 2 3 4 5"), r"SOA"),
            (("add", "www", "SOA", "ns1 hostmaster 1 2 3 4 5"), r"SOA"),
            (("del", "@", "NS"), r"apex NS"),
            (("del", "@", "NS", "ns1.ctl.test."), r"apex NS"),
            (("del", "@"), r"SOA|apex NS"),
            (("del", "nothere", "A", "192.0.2.1"), r"nothing to delete"),
            (("del", "www", "A", "192.0.2.99"), r"nothing to delete"),
        ]
        for args, pattern in cases:
            with self.subTest(" ".join(args)):
                self.refused("record", args[0], ZONE, *args[1:], match=pattern)
                self.assertEqual(self.snapshot_state(), before)
        self.refused("record", "add", "other.test", "x", "A", "192.0.2.1", match=r"other\.test")
        # data beside a runtime CNAME
        s = self.change_ok("record", "add", ZONE, "cn", "CNAME", "www")
        self.assertEqual(s, BASE_SERIAL + 1)
        self.refused("record", "add", ZONE, "cn", "A", "192.0.2.5", match=r"beside a CNAME")
        self.refused("record", "add", ZONE, "cn", "CNAME", "www2", match=r"more than one CNAME")
        self.assertEqual(self.serial(), BASE_SERIAL + 1)
        self.assertEqual(self.status()["journal_entries"], 1)

    def test_big_batch_is_one_transaction(self):
        n = 3000
        lines = ["add ctl.test big%d A 192.0.2.%d" % (i, i % 250 + 1) for i in range(n)]
        good = self.write("big.txt", "\n".join(lines) + "\n")
        bad = self.write("big-bad.txt", "\n".join(lines + ["add ctl.test big-last A 192.0.2.999"]) + "\n")
        err = self.refused("record", "batch", bad, match=r"change %d" % (n + 1))
        self.assertEqual(self.serial(), BASE_SERIAL)
        for i in (0, 1, n // 2, n - 1):
            self.assertEqual(self.a_records("big%d.ctl.test." % i)[0], "NXDOMAIN", err)
        t0 = time.monotonic()
        self.assertEqual(self.change_ok("record", "batch", good), BASE_SERIAL + 1)
        secs = time.monotonic() - t0
        self.assertEqual(self.serial(), BASE_SERIAL + 1)
        st = self.status()
        self.assertEqual((st["journal_entries"], st["changes_applied"]), (1, n))
        for i in range(n):
            self.assertEqual(self.a_records("big%d.ctl.test." % i), ("NOERROR", ["192.0.2.%d" % (i % 250 + 1)]))
        if VERBOSE:
            print("\nbatch of %d records applied in %.2f s" % (n, secs), file=sys.stderr)
        # replayed as one batch after a restart
        self.restart()
        self.assertEqual(self.serial(), BASE_SERIAL + 1)
        self.assertEqual(self.a_records("big%d.ctl.test." % (n - 1)), ("NOERROR", ["192.0.2.%d" % ((n - 1) % 250 + 1)]))
        self.assertRegex(self.server.log(), r"replayed 1 change batches")


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
