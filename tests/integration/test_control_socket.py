#!/usr/bin/env python3
"""The control socket itself (python3 stdlib only).

Each test starts its own anamed on a free port with a control socket in a
private temporary directory (controltest.ControlTest).  Covered:

  * several anamectl clients at once (four loops of fifty changes, and an idle
    connection throughout);
  * the socket's permissions (mode 0600, `nobody` refused, peer credentials
    checked even when the mode is opened up), idle, half-sent and
    never-reading clients, malformed requests on a connection that keeps
    working, a request followed by a half close.

Environment and how to run it: see tests/integration/anamedtest.py.
"""

import collections
import grp
import json
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
from dnstest import VERBOSE  # noqa: E402
from anamedtest import find_anamectl, main  # noqa: E402
from controltest import BASE_SERIAL, ZONE, ControlConn, ControlTest, base_zone, change  # noqa: E402


# --------------------------------------------------------------------------
# several anamectl clients at once
# --------------------------------------------------------------------------

class TestConcurrentClients(ControlTest):

    def test_four_parallel_loops_of_fifty_changes(self):
        self.start(base_zone())
        results = collections.defaultdict(list)
        idle = ControlConn(self.sock_path)          # and one that says nothing throughout
        self.addCleanup(idle.close)

        def loop(k):
            for j in range(50):
                p = self.ctl("record", "add", ZONE, "p%d-%d" % (k, j), "A", "192.0.2.%d" % (k * 50 + j + 1))
                results[k].append(p)

        threads = [threading.Thread(target=loop, args=(k,)) for k in range(4)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        secs = time.monotonic() - t0
        serials = []
        for k in range(4):
            self.assertEqual(len(results[k]), 50)
            for p in results[k]:
                self.assertEqual(p.returncode, 0, p.what)
                serials.append(int(re.search(r"serial (\d+)", p.stdout).group(1)))
        self.assertEqual(sorted(serials), list(range(BASE_SERIAL + 1, BASE_SERIAL + 201)),
                         "each command has its own serial")
        self.assertEqual(self.serial(), BASE_SERIAL + 200)
        st = self.status()
        self.assertEqual((st["changes_applied"], st["journal_entries"]), (200, 200))
        for k in range(4):
            for j in range(50):
                self.assertEqual(self.a_records("p%d-%d.ctl.test." % (k, j)),
                                 ("NOERROR", ["192.0.2.%d" % (k * 50 + j + 1)]))
        names = self.ctl_json("zone", "list")["zones"][0]["names"]
        self.assertEqual(names, 6 + 200)
        if VERBOSE:
            print("\n200 anamectl changes from 4 clients in %.1f s" % secs, file=sys.stderr)


# --------------------------------------------------------------------------
# the socket: permissions, idle and misbehaving clients, malformed requests
# --------------------------------------------------------------------------

def as_nobody_prefix():
    """Command prefix that runs a program as nobody, or None."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        return None
    group = None
    for g in ("nogroup", "nobody"):
        try:
            grp.getgrnam(g)
            group = g
            break
        except KeyError:
            pass
    if shutil.which("setpriv") and group:
        return ["setpriv", "--reuid=nobody", "--regid=" + group, "--clear-groups"]
    if shutil.which("runuser"):
        return ["runuser", "-u", "nobody", "--"]
    return None


class TestSocket(ControlTest):

    def setUp(self):
        super().setUp()
        self.start(base_zone())

    def assertServing(self):
        self.assertAlive()
        t0 = time.monotonic()
        p = self.ctl("status", timeout=10)
        secs = time.monotonic() - t0
        self.assertEqual(p.returncode, 0, p.what)
        self.assertLess(secs, 2.0, "anamectl status took %.1f s" % secs)
        self.assertEqual(self.a_records("www.ctl.test."), ("NOERROR", ["192.0.2.1"]))

    def test_socket_mode_is_0600_and_owned_by_the_daemon_user(self):
        st = os.stat(self.sock_path)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600, oct(st.st_mode))
        self.assertEqual(st.st_uid, os.geteuid())
        self.assertEqual(stat.S_IMODE(os.stat(self.journal).st_mode) & 0o077, 0,
                         "the journal is readable by others")

    def test_non_root_user_is_refused(self):
        prefix = as_nobody_prefix()
        if prefix is None:
            self.skipTest("needs root and setpriv/runuser to run anamectl as nobody")
        p = subprocess.run(prefix + [find_anamectl(), "--help"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if p.returncode != 0:
            self.skipTest("nobody cannot run %s: %s" % (find_anamectl(), p.stdout))
        # let nobody reach the socket: only its mode stands in the way
        os.chmod(self.dir, 0o755)
        for args in (["status"], ["record", "add", ZONE, "evil", "A", "192.0.2.66"]):
            p = self.ctl(*args, user_prefix=prefix)
            self.assertEqual(p.returncode, 3, p.what)  # anamed cannot be reached
            self.assertIn("Permission denied", p.stderr, p.what)
        self.assertServing()
        self.assertEqual(self.a_records("evil.ctl.test.")[0], "NXDOMAIN")
        # the peer credentials are checked too: with the mode opened up, nobody is
        # still refused (the daemon answers "permission denied" and hangs up)
        os.chmod(self.sock_path, 0o666)
        for args in (["status"], ["record", "add", ZONE, "evil", "A", "192.0.2.66"]):
            p = self.ctl(*args, user_prefix=prefix)
            self.assertIn(p.returncode, (1, 3), p.what)  # refused, or hung up on
            self.assertRegex(p.stderr, r"(?i)permission denied|lost|closed", p.what)
        self.assertServing()
        self.assertEqual(self.a_records("evil.ctl.test.")[0], "NXDOMAIN")
        self.assertEqual(self.serial(), BASE_SERIAL)
        self.assertEqual(self.status()["journal_entries"], 0)

    def test_silent_half_sent_and_never_reading_clients_do_not_block_others(self):
        silent = ControlConn(self.sock_path)
        self.addCleanup(silent.close)
        half = ControlConn(self.sock_path)
        self.addCleanup(half.close)
        half.send(b'{"cmd":"change","changes":[{"op":"add","zone":"ctl.test","na')
        time.sleep(0.1)
        self.assertServing()
        self.assertEqual(self.change_ok("record", "add", ZONE, "while-idle", "A", "192.0.2.50"),
                         BASE_SERIAL + 1)
        # a client that pipelines many requests and never reads its replies
        greedy = ControlConn(self.sock_path)
        self.addCleanup(greedy.close)
        greedy.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        greedy.send(b'{"cmd":"status"}\n' * 2000)
        time.sleep(0.3)
        self.assertServing()
        self.assertEqual(self.change_ok("record", "add", ZONE, "while-greedy", "A", "192.0.2.51"),
                         BASE_SERIAL + 2)
        # the half-sent change was never applied; a client that dies mid-request is forgotten
        half.close()
        greedy.close()
        time.sleep(0.1)
        self.assertServing()
        self.assertEqual(self.serial(), BASE_SERIAL + 2)
        # the silent one still works when it finally speaks
        self.assertTrue(silent.request({"cmd": "status"})["ok"])

    def test_malformed_requests_get_errors_and_the_connection_keeps_working(self):
        c = ControlConn(self.sock_path)
        self.addCleanup(c.close)
        bad = [
            b"{not json",
            b'{"cmd":"status"',
            b"\xff\xfe garbage",
            b'{"cmd":"status","x":"\xff"}',
            b"[]", b"null", b"42", b'"status"',
            b"{}",
            b'{"cmd":42}',
            b'{"cmd":"no-such-command"}',
            b'{"cmd":"change"}',
            b'{"cmd":"change","changes":[]}',
            b'{"cmd":"change","changes":{}}',
            b'{"cmd":"change","changes":[42]}',
            b'{"cmd":"change","changes":[{"op":"add"}]}',
            b'{"cmd":"change","changes":[{"op":"frob","zone":"ctl.test","name":"x","type":"A","rdata":"192.0.2.1"}]}',
            b'{"cmd":"change","changes":[{"op":"add","zone":"ctl.test","name":"x","type":"A"}]}',
            b'{"cmd":"change","changes":[{"op":"add","zone":"ctl.test","name":"x","type":"A","rdata":"192.0.2.1","ttl":-1}]}',
            b'{"cmd":"change","changes":[{"op":"add","zone":"ctl.test","name":"x","type":"A","rdata":"192.0.2.1","ttl":"60"}]}',
            b'{"cmd":"change","changes":[{"op":"add","zone":"ctl.test","name":"x","type":"A","rdata":1}]}',
            b'{"cmd":"change","changes":[{"op":"add","zone":"ctl.test","name":"x\\ny","type":"A","rdata":"192.0.2.1"}]}',
            b'{"cmd":"record-show"}',
            b'{"cmd":"record-show","zone":"ctl.test"}',
            b'{"cmd":"zone-flush"}',
            b'{"cmd":"zone-flush","zone":"nosuch.test"}',
            b'{"cmd":"zone-check"}',
            b'{"cmd":"alias-refresh"}',
            b'{"cmd":"alias-show","target":"nosuch.example."}',
            b"[" * 100000 + b"]" * 100000,
            b'{"cmd":"' + b"x" * (1 << 20) + b'"}',
        ]
        for line in bad:
            with self.subTest(line[:60]):
                c.send(line + b"\n")
                reply = c.reply()
                self.assertIs(reply.get("ok"), False, "%r -> %r" % (line[:80], reply))
                self.assertIsInstance(reply.get("error"), str)
                self.assertTrue(reply["error"], reply)
                # the same connection keeps working
                self.assertIs(c.request({"cmd": "zone-list"})["ok"], True)
        # blank lines are ignored; several requests in one write get one reply each, in order
        c.send(b'\n  \n{"cmd":"zone-list"}\n{"bad\n{"cmd":"status"}\n')
        replies = [c.reply() for _ in range(3)]
        self.assertEqual([r["ok"] for r in replies], [True, False, True])
        self.assertIn("zones", replies[0])
        self.assertIn("uptime_s", replies[2])
        self.assertEqual(self.serial(), BASE_SERIAL)
        self.assertEqual(self.a_records("x.ctl.test.")[0], "NXDOMAIN")
        self.assertServing()

    def test_request_then_half_close_still_gets_its_reply(self):
        # `printf '{"cmd":"zone-list"}\n' | socat - UNIX-CONNECT:...` style: the client
        # sends its request and shuts down its sending side at once.  When anamed is
        # busy with another client, the request and the EOF are read in the same pass.
        for busy in (False, True):
            with self.subTest("anamed busy with another client" if busy else "anamed idle"):
                if busy:
                    other = ControlConn(self.sock_path, timeout=30)
                    self.addCleanup(other.close)
                    other.send(b"".join((json.dumps({"cmd": "change", "changes": [
                        change("add", "busy%d" % i, "A", "192.0.2.7")]}) + "\n").encode()
                        for i in range(100)))
                    time.sleep(0.05)
                c = ControlConn(self.sock_path, timeout=10)
                self.addCleanup(c.close)
                c.send(b'{"cmd":"zone-list"}\n')
                c.sock.shutdown(socket.SHUT_WR)
                line = c.read_line()
                if busy:
                    for _ in range(100):
                        self.assertIs(other.reply()["ok"], True)
                self.assertTrue(line, "no reply to a request followed by shutdown(SHUT_WR): anamed "
                                      "closed the connection without serving the request")
                self.assertIs(json.loads(line)["ok"], True)
        self.assertServing()


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
