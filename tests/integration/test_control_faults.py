#!/usr/bin/env python3
"""The control plane against bad input, bad neighbours and large numbers (python3 stdlib
only): configuration mistakes refused at load with file:line (duplicate keys, zero
intervals) and clear command-line messages; many workers; a regular file at the
control socket's path left alone; a control group reached through a supplementary
group; the control socket's memory bounded across clients; a change refused because
the disk is full logged by the daemon.

Run:  ANAMED_BIN=build/controlplane/anamed python3 tests/integration/test_control_faults.py
The last line printed is "N passed, N failed, N skipped".
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
from anamedtest import Anamed, find_binary, main  # noqa: E402
from controltest import ZONE, ControlConn, ControlTest, base_zone  # noqa: E402


def run_anamed(*args, timeout=30):
    p = subprocess.run([find_binary()] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=timeout)
    return p.returncode, p.stdout


def peak_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


class Configuration(ControlTest):

    def config(self, body):
        zfile = self.write("z.zone", base_zone())
        return self.write("anamed.yaml", "zones:\n  - {name: %s, file: %s}\n" % (ZONE, zfile)
                          + body)

    def test_duplicate_key_is_an_error_with_its_line(self):
        path = self.config("workers: 1\nalias:\n  refresh-min-s: 5\n  refresh-min-s: 7\n")
        rc, out = run_anamed("--check", "--config", path)
        self.assertEqual(rc, 2, out)
        self.assertIn("%s:6: duplicate key 'refresh-min-s'" % path, out)
        path = self.config("workers: 1\nworkers: 2\n")
        rc, out = run_anamed("--check", "--config", path)
        self.assertEqual(rc, 2, out)
        self.assertIn("%s:4: duplicate key 'workers'" % path, out)

    def test_zero_and_absurd_intervals_are_refused(self):
        for key, value, line in (("refresh-min-s", 0, 4), ("refresh-max-s", 0, 4),
                                 ("query-timeout-ms", 0, 4), ("query-timeout-ms", 1, 4)):
            path = self.config("alias:\n  %s: %d\n" % (key, value))
            rc, out = run_anamed("--check", "--config", path)
            self.assertEqual(rc, 2, out)
            self.assertIn("%s:%d: %s must be between" % (path, line, key), out)
        path = self.config("tcp:\n  idle-timeout-ms: 0\n")
        rc, out = run_anamed("--check", "--config", path)
        self.assertEqual(rc, 2, out)
        self.assertIn("idle-timeout-ms must be between", out)

    def test_every_flag_gives_a_clear_message(self):
        zone = "%s=%s" % (ZONE, self.write("z.zone", base_zone()))
        cases = [(["--workers", "abc"], "--workers wants a number"),
                 (["--workers", "1000"], "--workers wants a number"),
                 (["--workers"], "--workers needs a value"),
                 (["--zone", "nofile"], "--zone wants NAME=FILE"),
                 (["--zone", zone, "--listen", "nonsense"], "address 'nonsense'"),
                 (["--zone", zone, "--upstream", "1.2.3.4:99999"], "address '1.2.3.4:99999'"),
                 (["--frobnicate"], "unknown option --frobnicate"),
                 (["--journal-check", "--zone", zone], "need a journal")]
        for args, message in cases:
            rc, out = run_anamed(*args)
            self.assertEqual(rc, 2, "%s: %s" % (args, out))
            self.assertIn(message, out, args)
            self.assertNotIn("stoul", out)

    def test_many_workers_start_and_answer(self):
        # Two addresses x 256 workers: more dataplane threads than a fixed table of 256.
        self.start(base_zone())
        self.server.stop()
        args = [a if a != "2" else "256" for a in self.daemon_args()]
        srv = Anamed(args + ["--listen", "[::1]:%d" % self.port], self.dir, self.port,
                     hosts=("127.0.0.1", "::1"), log_name="many.stderr")
        self.addCleanup(srv.close)
        self.addCleanup(self._stop_and_check, srv)
        srv.wait_ready(timeout=60)
        self.server = srv
        self.assertEqual(self.a_records("www.ctl.test."), ("NOERROR", ["192.0.2.1"]))
        self.assertEqual(self.ok("status").count("\n") > 0, True)


class SocketPath(ControlTest):

    def test_regular_file_at_the_socket_path_is_left_alone(self):
        with open(self.sock_path, "w") as f:
            f.write("precious\n")
        srv = Anamed(self.daemon_args(), self.dir, self.port, log_name="refused.stderr")
        self.addCleanup(srv.close)
        try:
            rc = srv.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.fail("anamed started over a regular file at its socket path")
        self.assertEqual(rc, 1, srv.log())
        self.assertIn("is not a socket", srv.log())
        with open(self.sock_path) as f:
            self.assertEqual(f.read(), "precious\n")

    def test_stale_socket_is_replaced(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(self.sock_path)
        s.close()                     # a socket file nobody listens on
        self.start(base_zone())
        self.assertIn("journal entries 0", self.ok("status"))


class Group(ControlTest):

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0 or not shutil.which("setpriv"):
            self.skipTest("needs root and setpriv")
        self.conf = None

    def start_with_group(self, group):
        zfile = self.write("ctl.zone", base_zone())
        self.conf = self.write("anamed.yaml", (
            "listen: [127.0.0.1:%d]\nworkers: 1\njournal: %s\n"
            "zones:\n  - {name: %s, file: %s}\n"
            "control: {socket: %s, group: %s}\n")
            % (self.port, self.journal, ZONE, zfile, self.sock_path, group))
        srv = Anamed(["--config", self.conf], self.dir, self.port, log_name="group.stderr")
        self.addCleanup(srv.close)
        self.addCleanup(self._stop_and_check, srv)
        srv.wait_ready()
        self.server = srv
        while not os.path.exists(self.sock_path):
            time.sleep(0.02)

    def test_supplementary_group_member_is_let_in(self):
        self.start_with_group("adm")
        os.chmod(self.dir, 0o711)
        base = ["setpriv", "--reuid=nobody", "--regid=nogroup"]
        member = self.ctl("status", user_prefix=base + ["--groups=adm"])
        self.assertEqual(member.returncode, 0, member.what)
        outsider = self.ctl("status", user_prefix=base + ["--clear-groups"])
        self.assertNotEqual(outsider.returncode, 0, outsider.what)


class ControlMemory(ControlTest):

    def setUp(self):
        super().setUp()
        self.start(base_zone())

    def test_oversized_request_is_refused_before_it_is_read_whole(self):
        conn = ControlConn(self.sock_path, timeout=30)
        line = json.dumps({"cmd": "status", "pad": "x" * (60 << 20)}).encode() + b"\n"
        hung_up = False
        try:
            conn.send(line)
        except OSError:
            hung_up = True            # anamed closed the connection after its refusal
        reply = conn.reply()
        self.assertFalse(reply["ok"])
        self.assertIn("limited to 8 MiB", reply["error"])
        # 52 MiB were still unsent when anamed stopped reading: far more than socket buffers.
        self.assertTrue(hung_up, "anamed read the whole 60 MiB request before refusing it")
        self.assertLess(peak_rss_kib(self.server.proc.pid), 200 << 10)
        self.assertIn("control client refused", self.server.log())
        # A large request under the limit is served.
        conn = ControlConn(self.sock_path, timeout=30)
        r = conn.request({"cmd": "status", "pad": "y" * (6 << 20)})
        self.assertTrue(r["ok"], r)

    def test_idle_clients_cannot_hold_more_than_the_budget(self):
        conns, refused = [], 0
        for _ in range(8):
            c = ControlConn(self.sock_path, timeout=10)
            try:
                c.send(b'{"cmd": "status", "pad": "' + b"z" * (7 << 20))  # no end of line
            except OSError:
                pass
            conns.append(c)
            time.sleep(0.3)
        for c in conns:
            c.sock.settimeout(0.5)
            try:
                line = c.read_line()
            except (socket.timeout, OSError):
                continue
            if line and b"busy" in line:
                refused += 1
        self.assertGreaterEqual(refused, 5)
        self.assertLess(peak_rss_kib(self.server.proc.pid), 200 << 10)
        for c in conns:
            c.close()
        self.assertIn("journal entries 0", self.ok("status"))


class DiskFull(ControlTest):

    def setUp(self):
        super().setUp()
        self.mnt = self.small_disk()
        self.journal = os.path.join(self.mnt, "journal.mdb")

    def test_refusal_for_a_full_disk_is_logged(self):
        self.start(base_zone())
        self.change_ok("record", "add", ZONE, "first", "A", "192.0.2.61")
        self.fill_disk(self.mnt)
        p = self.ctl("record", "add", ZONE, "second", "TXT", "x" * 200)
        self.assertEqual(p.returncode, 1, p.what)
        self.assertRegex(self.server.log(), r"warning: refused: .*journal")
        self.assertEqual(self.a_records("second.ctl.test.")[0], "NXDOMAIN")
        self.server.stop()


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
