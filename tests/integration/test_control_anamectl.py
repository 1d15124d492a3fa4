#!/usr/bin/env python3
"""anamectl's inspection commands and its own errors (python3 stdlib only).

Each test starts its own anamed on a free port with a control socket in a
private temporary directory (controltest.ControlTest).  Covered: alias
list/show/refresh, stats --json, status, zone list/check, --help for every
command and usage errors; anamectl exits 1 with a message (no abort) on an
unreadable answer (a fake control socket), 2 on an argument that is not UTF-8,
3 when no anamed answers.

Environment and how to run it: see tests/integration/anamedtest.py.
"""

import os
import re
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
from anamedtest import find_anamectl, main  # noqa: E402
from anamedtest import find_binary  # noqa: E402
from controltest import BASE_SERIAL, ZONE, ControlTest, base_zone, small_zone  # noqa: E402


# --------------------------------------------------------------------------
# the command table and the bash completion
# --------------------------------------------------------------------------

SOURCE = os.path.normpath(os.path.join(HERE, "..", ".."))


def table_commands():
    """The command lines of the command table, in its order ("zone list", ...)."""
    with open(os.path.join(SOURCE, "include", "anamed", "control_commands.hpp")) as f:
        text = f.read()
    return re.findall(r'\{"([a-z]+(?: [a-z]+)*)",\s+Command::', text)


def complete_with_bash(words, cwd=None):
    """What tools/anamectl.bash-completion offers for the last of `words`."""
    script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); '
              'COMP_WORDS[0]="$ANAMECTL"; _anamectl; printf "%s\\n" "${COMPREPLY[@]}"')
    env = dict(os.environ, ANAMECTL=find_anamectl())
    env.pop("ANAMED_SOCKET", None)
    p = subprocess.run(["bash", "-c", script, "bash",
                        os.path.join(SOURCE, "tools", "anamectl.bash-completion")] + words,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30,
                       env=env, cwd=cwd)
    if p.returncode != 0:
        raise AssertionError("bash completion failed: %s" % p.stderr)
    return [line for line in p.stdout.split("\n") if line]


# --------------------------------------------------------------------------
# alias, stats, status, zone list / check
# --------------------------------------------------------------------------

class TestInspection(ControlTest):

    def setUp(self):
        super().setUp()
        self.start(base_zone())

    def test_alias_list_show_refresh(self):
        out = self.ok("alias", "list")
        self.assertRegex(out, r"(?m)^TARGET\s+STATE")
        self.assertRegex(out, r"(?m)^www\.ctl\.test\.\s+resolved \(local\)\s+192\.0\.2\.1\b", out)
        j = self.ctl_json("alias", "list")
        self.assertEqual([(t["target"], t["state"], t["local"], t["addresses"]) for t in j["targets"]],
                         [("www.ctl.test.", "resolved", True, ["192.0.2.1"])])
        self.change_ok("record", "add", ZONE, "rt2", "ALIAS", "www2")
        j = self.ctl_json("alias", "list")
        self.assertEqual(sorted(t["target"] for t in j["targets"]), ["www.ctl.test.", "www2.ctl.test."])
        w2 = [t for t in j["targets"] if t["target"] == "www2.ctl.test."][0]
        self.assertEqual(sorted(w2["addresses"]), ["192.0.2.2", "2001:db8::2"])
        out = self.ok("alias", "show", "www2.ctl.test")
        self.assertIn("www2.ctl.test.", out)
        self.assertNotIn("www.ctl.test.", out)
        self.refused("alias", "show", "nosuch.example.", match=r"nosuch\.example")
        self.ok("alias", "refresh", "www.ctl.test.")
        self.refused("alias", "refresh", "nosuch.example.", match=r"nosuch\.example")
        # a change to the target's addresses reaches the ALIAS
        self.change_ok("record", "set", ZONE, "www2", "A", "192.0.2.20")
        self.assertEqual(self.a_records("rt2.ctl.test."), ("NOERROR", ["192.0.2.20"]))

    def test_completion_asks_anamed_for_zones_and_targets(self):
        self.assertEqual(complete_with_bash(["anamectl", "--socket", self.sock_path, "zone", "flush", ""]),
                         ["ctl.test."])
        self.assertEqual(complete_with_bash(["anamectl", "--socket", self.sock_path, "record", "show", "c"]),
                         ["ctl.test."])
        self.assertEqual(complete_with_bash(["anamectl", "--socket", self.sock_path, "alias", "show", ""]),
                         ["www.ctl.test."])
        self.assertEqual(complete_with_bash(["anamectl", "--socket", self.sock_path, "zone", "flush", "x"]), [])

    def test_stats_json_counters_move(self):
        def counters():
            j = self.ctl_json("stats")
            for k in ("queries", "responses", "rcode", "qtype", "dropped", "alias"):
                self.assertIn(k, j)
            return j
        before = counters()
        sent = {"NOERROR": 3, "NXDOMAIN": 2, "REFUSED": 1}
        for _ in range(3):
            self.assertEqual(self.a_records("www.ctl.test.")[0], "NOERROR")
        for _ in range(2):
            self.assertEqual(self.a_records("nope.ctl.test.")[0], "NXDOMAIN")
        self.assertEqual(self.a_records("www.example.org.")[0], "REFUSED")
        deadline = time.monotonic() + 3
        while True:
            after = counters()
            delta = {k: after["rcode"].get(k, 0) - before["rcode"].get(k, 0) for k in sent}
            if delta == sent or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(delta, sent, "rcode counters %r -> %r" % (before["rcode"], after["rcode"]))
        self.assertEqual(after["queries"] - before["queries"], 6)
        # by transport and per frontend block: the same queries, all over UDP here
        self.assertEqual(after["transport"]["udp"]["queries"] - before["transport"]["udp"]["queries"], 6)
        self.assertEqual(after["transport"]["tcp"]["queries"], before["transport"]["tcp"]["queries"])
        self.assertEqual([(f["frontend"], f["transport"]) for f in after["frontends"]],
                         [("kernel", "tcp"), ("kernel", "udp"), ("kernel", "udp")])
        self.assertEqual(sum(f["queries"] for f in after["frontends"]), after["queries"])
        self.assertEqual(sum(f["responses"] for f in after["frontends"]), after["responses"])
        self.assertIsNone(after["dpdk"])
        self.assertGreaterEqual(after["qtype"].get("A", 0) - before["qtype"].get("A", 0), 6, after["qtype"])
        self.assertEqual(after["alias"]["targets"], 1)
        self.assertEqual(self.dig("www.ctl.test.", "MX", tcp=True)["rcode"], "NOERROR")
        deadline = time.monotonic() + 3
        while counters()["transport"]["tcp"]["queries"] == after["transport"]["tcp"]["queries"]:
            self.assertLess(time.monotonic(), deadline, "the TCP query was not counted")
            time.sleep(0.05)
        tcp = counters()
        self.assertEqual(tcp["transport"]["tcp"]["queries"] - after["transport"]["tcp"]["queries"], 1)
        self.assertEqual(tcp["frontends"][0]["queries"] - after["frontends"][0]["queries"], 1)
        self.assertEqual(tcp["qtype"].get("MX", 0) - after["qtype"].get("MX", 0), 1)
        out = self.ok("stats")
        self.assertRegex(out, r"(?m)^rcode\.NOERROR=\d+$")
        self.assertRegex(out, r"(?m)^transport\.udp\.queries=\d+$")
        self.assertRegex(out, r"(?m)^frontend\.kernel\.tcp\.0\.queries=\d+$")
        self.assertRegex(out, r"(?m)^queries=\d+$")

    def test_status_and_zone_list_and_check(self):
        out = self.ok("status")
        self.assertRegex(out, r"anamed \S+, pid %d, up \d+ s" % self.server.proc.pid)
        self.assertRegex(out, r"journal entries 0")
        self.assertRegex(out, r"(?m)^ctl\.test\.\s+%d\s+6\s+%s$" % (BASE_SERIAL, re.escape(self.zfile)))
        st = self.status()
        self.assertEqual(st["zones"], [{"name": "ctl.test.", "serial": BASE_SERIAL, "names": 6, "file": self.zfile}])
        self.assertEqual((st["journal_entries"], st["changes_applied"]), (0, 0))
        self.change_ok("record", "add", ZONE, "one", "A", "192.0.2.1")
        out = self.ok("zone", "list")
        self.assertRegex(out, r"(?m)^ZONE\s+SERIAL\s+NAMES\s+FILE$")
        self.assertRegex(out, r"(?m)^ctl\.test\.\s+%d\s+7\s" % (BASE_SERIAL + 1))
        # zone check: a good file, a file with CNAME beside data, a missing file
        good = self.write("good.zone", small_zone("good.test"))
        out = self.ok("zone", "check", good, "good.test")
        self.assertRegex(out, r"ok: 2 names")
        bad = self.write("bad.zone", small_zone("bad.test") + "x IN CNAME ns1\nx IN A 192.0.2.1\n")
        p = self.ctl("zone", "check", bad, "bad.test")
        self.assertEqual(p.returncode, 1, p.what)
        self.assertIn("%s:7: error:" % bad, p.stderr, p.what)
        self.assertIn("ALIAS", p.stderr)
        p = self.ctl("zone", "check", os.path.join(self.dir, "missing.zone"), "m.test")
        self.assertEqual(p.returncode, 1, p.what)
        self.assertIn("missing.zone", p.stderr)
        # checking is not serving
        self.assertEqual(self.a_records("ns1.good.test.")[0], "REFUSED")


# --------------------------------------------------------------------------
# anamectl itself: --help, usage errors, no daemon
# --------------------------------------------------------------------------

class TestAnamectlUsage(ControlTest):
    """No daemon needed: anamectl answers these itself."""

    def test_help_for_every_command(self):
        for args, want in ((["--help"], r"commands:"),
                           (["status", "--help"], r"usage: anamectl status"),
                           (["stats", "--help"], r"usage: anamectl stats"),
                           (["zone", "--help"], r"usage: anamectl zone"),
                           (["zone", "flush", "--help"], r"usage: anamectl zone"),
                           (["record", "--help"], r"usage: anamectl record"),
                           (["record", "batch", "--help"], r"record batch FILE"),
                           (["alias", "--help"], r"usage: anamectl alias"),
                           (["alias", "refresh", "--help"], r"refresh TARGET")):
            with self.subTest(" ".join(args)):
                p = self.ctl(*args)
                self.assertEqual(p.returncode, 0, p.what)
                self.assertRegex(p.stdout, want, p.what)

    def test_usage_and_connection_errors_exit_2(self):
        batch_empty = self.write("empty.txt", "# nothing\n")
        batch_bad = self.write("bad.txt", "frob ctl.test x A 192.0.2.1\n")
        cases = [
            ([], r"no command"),
            (["frobnicate"], r"unknown command"),
            (["zone"], r"zone: expected"),
            (["zone", "flush"], r"zone: expected"),
            (["zone", "check"], r"zone: expected"),
            (["record", "add", ZONE, "x"], r"record: expected add ZONE NAME TYPE RDATA"),
            (["record", "add", ZONE, "x", "A"], r"record: expected add ZONE NAME TYPE RDATA"),
            (["record", "del", ZONE, "x", "A", "192.0.2.1", "--frob", "1"], r"unknown option --frob"),
            (["zone", "list", "extra"], r"zone list: unexpected argument 'extra'"),
            (["status", "--ttl", "5"], r"status takes no option --ttl"),
            (["record", "show", ZONE], r"record: expected"),
            (["record", "add", ZONE, "x", "A", "192.0.2.1", "--ttl", "soon"], r"--ttl"),
            (["record", "batch", os.path.join(self.dir, "missing.txt")], r"cannot read"),
            (["record", "batch", batch_empty], r"no changes"),
            (["record", "batch", batch_bad], r"bad\.txt:1"),
            (["alias"], r"alias: expected"),
            (["alias", "show"], r"alias: expected"),
        ]
        for args, want in cases:
            with self.subTest(" ".join(args)):
                p = self.ctl(*args)
                self.assertEqual(p.returncode, 2, p.what)
                self.assertRegex(p.stderr, want, p.what)
                self.assertEqual(p.stdout, "", p.what)
        p = self.ctl("status")  # no daemon is running: 3
        self.assertEqual(p.returncode, 3, p.what)
        self.assertRegex(p.stderr, r"cannot connect", p.what)
        self.assertEqual(p.stdout, "", p.what)

    def test_help_lists_every_command_of_the_table(self):
        """The command table (include/anamed/control_commands.hpp) is what --help,
        per-command help and completion read: each of its rows shows up in each."""
        out = self.ctl("--help")
        self.assertEqual(out.returncode, 0, out.what)
        commands = table_commands()
        self.assertGreaterEqual(len(commands), 14, commands)
        for words in commands:
            with self.subTest(words):
                self.assertRegex(out.stdout, r"(?m)^  %s\b" % re.escape(words), out.what)
                p = self.ctl(*words.split(), "--help")
                self.assertEqual(p.returncode, 0, p.what)
                self.assertTrue(p.stdout.startswith("usage: anamectl %s" % words), p.what)
        groups = sorted({w.split()[0] for w in commands})
        self.assertEqual(sorted(complete_with_bash(["anamectl", ""])), groups)

    def test_bash_completion(self):
        self.assertEqual(complete_with_bash(["anamectl", "zo"]), ["zone"])
        subs = list(dict.fromkeys(w.split()[1] for w in table_commands() if w.startswith("zone ")))
        self.assertEqual(complete_with_bash(["anamectl", "zone", ""]), subs)
        self.assertEqual(complete_with_bash(["anamectl", "--socket", self.sock_path, "record", "r"]),
                         ["replace"])
        self.assertEqual(complete_with_bash(["anamectl", "--socket", self.sock_path, "record", "x"]), [])
        self.assertEqual(complete_with_bash(["anamectl", "record", "add", ZONE, "x", "aa"]), ["AAAA"])
        self.assertEqual(complete_with_bash(["anamectl", "stats", "--j"]), ["--json"])
        self.assertEqual(complete_with_bash(["anamectl", "record", "add", ZONE, "x", "A", "1", "--t"]),
                         ["--ttl"])
        files = complete_with_bash(["anamectl", "zone", "check", os.path.join(self.dir, "com")], cwd=self.dir)
        self.assertEqual(files, [])
        self.write("completion.zone", "")
        files = complete_with_bash(["anamectl", "zone", "check", os.path.join(self.dir, "com")], cwd=self.dir)
        self.assertEqual(files, [os.path.join(self.dir, "completion.zone")])

    def test_anamed_rejects_a_bad_workers_count(self):
        for bad in ("abc", "-1", "1000", ""):
            with self.subTest(bad):
                p = subprocess.run([find_binary(), "--zone", "%s=%s" % (ZONE, self.zfile), "--workers", bad],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertRegex(p.stderr, r"^anamed: --workers wants a number", p.stderr)
                self.assertNotIn("stoul", p.stderr)

    def test_unreadable_answers_exit_1_and_non_utf8_arguments_exit_2(self):
        """A control socket that answers garbage (a fake one here): exit 1; an argument
        that cannot go into a JSON request: exit 2; each with a message, nothing on
        stdout, no abort."""
        fake = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        fake.bind(self.sock_path)
        fake.listen(4)
        self.addCleanup(fake.close)
        state = {"answer": b"", "connections": 0}

        def serve():
            while True:
                try:
                    conn, _ = fake.accept()
                except OSError:
                    return              # closed by the cleanup
                with conn:
                    state["connections"] += 1
                    data = b""
                    while b"\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    conn.sendall(state["answer"])
        def stop():
            try:
                fake.shutdown(socket.SHUT_RDWR)   # wakes accept()
            except OSError:
                pass
        threading.Thread(target=serve, daemon=True).start()
        self.addCleanup(stop)

        cases = [
            (["status"], b"not json\n"),
            (["--json", "status"], b'{"ok": tru\n'),
            (["status"], b"[1, 2]\n"),
            (["status"], b'{"ok": "yes"}\n'),
            (["status"], b'{"ok": false, "error": 5}\n'),
            (["status"], b'{"ok": true, "snapshot": "big"}\n'),
            (["zone", "list"], b'{"ok": true, "zones": 5}\n'),
            (["alias", "list"], b'{"ok": true, "targets": [{"local": "yes"}]}\n'),
        ]
        for args, answer in cases:
            with self.subTest(" ".join(args) + " <- " + answer.decode()):
                state["answer"] = answer
                p = self.ctl(*args)
                self.assertEqual(p.returncode, 1, p.what)
                self.assertRegex(p.stderr, r"^anamectl: unreadable answer from anamed", p.what)
                self.assertEqual(p.stdout, "", p.what)

        before = state["connections"]
        p = subprocess.run([find_anamectl(), "--socket", self.sock_path, "record", "add", ZONE,
                            b"caf\xe9", "A", "192.0.2.1"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                           timeout=30)
        self.assertEqual(p.returncode, 2, p)
        self.assertRegex(p.stderr, rb"^anamectl: an argument .* is not valid UTF-8", p)
        self.assertEqual(p.stdout, b"", p)
        self.assertEqual(state["connections"], before, "nothing should have been sent")


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
