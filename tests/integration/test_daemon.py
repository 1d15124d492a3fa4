#!/usr/bin/env python3
"""Daemon-level tests for anamed (python3 stdlib only).

Each test starts its own anamed on a free port, in a private temporary
directory, and stops it with SIGTERM (it must exit 0 within 5 s).  Covered:
SIGHUP reloads under query load (UDP and TCP, raw sockets), a broken zone on
reload and at startup, --config (YAML, IPv4 + IPv6, relative zone paths,
unknown keys), --check, the startup log, the TCP idle timeout and connection
limit, and SIGTERM with clients in the middle of a TCP connection.

Environment and how to run it: see tests/integration/anamedtest.py.
"""

import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
from dnstest import (DATA, RCODES, T_A, T_SOA, VERBOSE, build_query,  # noqa: E402
                     parse_message, recv_tcp_msg, soa_serial, tcp_frame, write_atomically)
from anamedtest import Anamed, AnamedTestCase, find_binary, main  # noqa: E402


def zone_text(origin, serial, www, extra=""):
    """A small valid zone: SOA with `serial`, NS, ns1 A, `www A <www>`."""
    return ("$ORIGIN %s.\n"
            "$TTL 3600\n"
            "@    IN SOA ns1 hostmaster %d 7200 3600 1209600 300\n"
            "@    IN NS  ns1\n"
            "ns1  IN A   192.0.2.53\n"
            "www  IN A   %s\n" % (origin, serial, www)) + extra


class DaemonTest(AnamedTestCase):
    """Base class: a private temp dir per test and helpers to run anamed."""

    TMP_PREFIX = "anamed-daemon-"

    def start(self, args, hosts=("127.0.0.1",), cwd=None, check_stop=True):
        srv = Anamed(args, self.dir, self.port, hosts=hosts, cwd=cwd)
        self.addCleanup(srv.close)
        if check_stop:
            self.addCleanup(self._stop_and_check, srv)
        srv.wait_ready()
        self.server = srv
        return srv

    def run_anamed(self, args, timeout=20):
        p = subprocess.run([find_binary()] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                           text=True, timeout=timeout, cwd=self.dir)
        return p.returncode, p.stdout

    # -- querying ----------------------------------------------------------

    def answer_a(self, name, host="127.0.0.1"):
        """The A addresses of a NOERROR answer, as a sorted list of strings."""
        r = self.udp_query(name, T_A, host)
        self.assertEqual(RCODES.get(r["rcode"]), "NOERROR", r)
        return sorted(socket.inet_ntoa(rd) for (_, t, _, _, rd) in r["answer"] if t == T_A)

    def poll_answer(self, name, want, timeout=2.0):
        deadline = time.monotonic() + timeout
        while True:
            got = self.answer_a(name)
            if got == want or time.monotonic() > deadline:
                return got
            time.sleep(0.05)

    def tcp_query(self, sock, name, qtype=T_A):
        qid = random.randrange(65536)
        q = build_query(qid, name, qtype)
        sock.sendall(tcp_frame(q))
        r = parse_message(recv_tcp_msg(sock))
        self.assertEqual(r["id"], qid)
        self.assertEqual(r["question_wire"], q[12:])
        return r

    def assertClosedByServer(self, sock, within):
        """recv() returns b'' (or the connection is reset) within `within` s."""
        sock.settimeout(within)
        t0 = time.monotonic()
        try:
            data = sock.recv(4096)
        except socket.timeout:
            self.fail("the server did not close the connection within %g s" % within)
        except ConnectionResetError:
            data = b""
        self.assertEqual(data, b"", "expected EOF, got %r" % data)
        return time.monotonic() - t0


# --------------------------------------------------------------------------
# 1. reload under load
# --------------------------------------------------------------------------

class TestReloadUnderLoad(DaemonTest):

    DURATION = 4.0
    HUP_INTERVAL = 0.1
    ZONE = "reload.test"
    QNAME = "www.reload.test."
    V1 = zone_text("reload.test", 1, "192.0.2.1")
    V2 = zone_text("reload.test", 2, "192.0.2.2")
    GOOD_A = {"192.0.2.1", "192.0.2.2"}

    def check_reply(self, reply, qid, query, qtype):
        """'' when the reply is right, else what is wrong with it; plus the value seen."""
        try:
            r = parse_message(reply)
        except ValueError as e:
            return "unparseable reply (%s): %s" % (e, reply.hex()), None
        if r["id"] != qid:
            return "id %d, sent %d" % (r["id"], qid), None
        if not r["qr"] or r["tc"]:
            return "bad flags %r" % r, None
        if r["question_wire"] != query[12:]:
            return "question %r, sent %r" % (r["question_wire"], query[12:]), None
        if r["rcode"] != 0:
            return "rcode %s" % RCODES.get(r["rcode"], r["rcode"]), None
        if not r["aa"]:
            return "AA not set", None
        if len(r["answer"]) != 1:
            return "%d answer RRs: %r" % (len(r["answer"]), r["answer"]), None
        owner, rtype, rclass, _, rdata = r["answer"][0]
        if owner != (self.QNAME if qtype == T_A else self.ZONE + ".") or rclass != 1:
            return "answer owner/class %s/%d" % (owner, rclass), None
        if rtype != qtype:
            return "answer type %d for a type %d query" % (rtype, qtype), None
        if qtype == T_A:
            if len(rdata) != 4 or socket.inet_ntoa(rdata) not in self.GOOD_A:
                return "A rdata %s" % rdata.hex(), None
            return "", socket.inet_ntoa(rdata)
        serial = soa_serial(rdata)
        if serial not in (1, 2):
            return "SOA serial %d" % serial, None
        return "", "serial %d" % serial

    def test_reload_under_load_drops_and_garbles_nothing(self):
        zfile = os.path.join(self.dir, "reload.zone")
        write_atomically(zfile, self.V1)
        srv = self.start(["--zone", "%s=%s" % (self.ZONE, zfile),
                          "--listen", "127.0.0.1:%d" % self.port])

        stop = threading.Event()
        lock = threading.Lock()
        stats = {"udp": 0, "tcp": 0, "udp_timeouts": 0, "tcp_timeouts": 0}
        bad = []
        seen = set()
        tcp_lock = threading.Lock()
        tcp_conn = [self.tcp_connect()]
        self.addCleanup(lambda: tcp_conn[0] and tcp_conn[0].close())

        def tcp_exchange(query):
            with tcp_lock:
                s = tcp_conn[0]
                if s is None:
                    s = tcp_conn[0] = self.tcp_connect()
                s.settimeout(1.0)
                try:
                    s.sendall(tcp_frame(query))
                    return recv_tcp_msg(s)
                except (socket.timeout, OSError) as e:
                    # the stream is out of step now: start a new connection
                    s.close()
                    tcp_conn[0] = None
                    return e

        def client(seed):
            rng = random.Random(seed)
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.connect(("127.0.0.1", self.port))
            udp.settimeout(1.0)
            n = 0
            try:
                while not stop.is_set():
                    n += 1
                    qtype = T_SOA if n % 5 == 0 else T_A
                    qname = self.ZONE + "." if qtype == T_SOA else self.QNAME
                    qid = rng.randrange(65536)
                    query = build_query(qid, qname, qtype)
                    if n % 7 == 0:
                        reply = tcp_exchange(query)
                        kind = "tcp"
                        if isinstance(reply, Exception):
                            with lock:
                                stats["tcp"] += 1
                                stats["tcp_timeouts"] += 1
                                bad.append("tcp: no reply (%r)" % reply)
                            continue
                    else:
                        kind = "udp"
                        udp.send(query)
                        try:
                            reply = udp.recv(65535)
                        except socket.timeout:
                            with lock:
                                stats["udp"] += 1
                                stats["udp_timeouts"] += 1
                            # a late reply must not be taken for the next query's
                            udp.close()
                            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                            udp.connect(("127.0.0.1", self.port))
                            udp.settimeout(1.0)
                            continue
                    err, value = self.check_reply(reply, qid, query, qtype)
                    with lock:
                        stats[kind] += 1
                        if err:
                            bad.append("%s %s/%d: %s" % (kind, qname, qtype, err))
                        else:
                            seen.add(value)
            except Exception as e:       # report, never hang the main thread
                with lock:
                    bad.append("client thread crashed: %r" % e)
            finally:
                udp.close()

        threads = [threading.Thread(target=client, args=(1000 + i,), daemon=True)
                   for i in range(2)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        hups = 0
        try:
            while time.monotonic() - t0 < self.DURATION:
                time.sleep(self.HUP_INTERVAL)
                write_atomically(zfile, self.V2 if hups % 2 == 0 else self.V1)
                srv.signal(signal.SIGHUP)
                hups += 1
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=5)
        elapsed = time.monotonic() - t0
        self.assertFalse(any(t.is_alive() for t in threads), "client thread hung")

        summary = ("%.1f s, %d SIGHUPs, %d UDP + %d TCP queries (%.0f q/s), "
                   "%d UDP timeouts, %d TCP failures, %d bad replies, seen %s"
                   % (elapsed, hups, stats["udp"], stats["tcp"],
                      (stats["udp"] + stats["tcp"]) / elapsed, stats["udp_timeouts"],
                      stats["tcp_timeouts"], len(bad), sorted(seen)))
        if VERBOSE:
            print("\nreload under load: " + summary, file=sys.stderr)
        if bad:
            self.fail(summary + "\nfirst bad replies:\n" + "\n".join(bad[:20]))
        self.assertEqual(stats["udp_timeouts"], 0, summary)
        self.assertGreater(stats["udp"], 1000, summary)
        self.assertGreater(stats["tcp"], 100, summary)
        # the reloads really took effect while the clients were querying
        self.assertEqual(seen, {"192.0.2.1", "192.0.2.2", "serial 1", "serial 2"}, summary)

        log = srv.log()
        self.assertGreaterEqual(log.count("SIGHUP: reloading zones"), hups // 2, log[-4000:])
        self.assertNotRegex(log, r"anamed (error|warning):", log[-4000:])

        # final state: a version no earlier reload served, so that seeing its address means
        # the last SIGHUP was applied (a reload still pending from the loop reads it too)
        write_atomically(zfile, zone_text("reload.test", 3, "192.0.2.3"))
        srv.signal(signal.SIGHUP)
        self.assertEqual(self.poll_answer(self.QNAME, ["192.0.2.3"]), ["192.0.2.3"],
                         srv.log()[-4000:])
        r = self.udp_query(self.ZONE + ".", T_SOA)
        self.assertEqual([soa_serial(rd) for (_, t, _, _, rd) in r["answer"] if t == T_SOA], [3])


# --------------------------------------------------------------------------
# 2 and 3. broken zones
# --------------------------------------------------------------------------

BROKEN_LINE = 7   # line of the bad record in broken_zone()


def broken_zone(origin, serial):
    text = zone_text(origin, serial, "192.0.2.2",
                     "bad  IN A   192.0.2.x99 garbage\n"     # line 7
                     "new  IN A   192.0.2.77\n")
    assert text.splitlines()[BROKEN_LINE - 1].startswith("bad ")
    return text


class TestBrokenZones(DaemonTest):

    def test_broken_zone_on_reload_keeps_the_previous_version(self):
        zfile = os.path.join(self.dir, "keep.zone")
        write_atomically(zfile, zone_text("keep.test", 1, "192.0.2.1"))
        srv = self.start(["--zone", "keep.test=" + zfile,
                          "--listen", "127.0.0.1:%d" % self.port])
        self.assertEqual(self.answer_a("www.keep.test"), ["192.0.2.1"])

        write_atomically(zfile, broken_zone("keep.test", 2))
        srv.signal(signal.SIGHUP)
        where = "%s:%d: error:" % (zfile, BROKEN_LINE)
        log = srv.wait_log(r"snapshot \d+ published")
        self.assertIsNotNone(log, "no snapshot published after SIGHUP:\n" + srv.log())
        self.assertIn(where, log)
        self.assertRegex(log, r"zone keep\.test\.? not loaded from .*previous version keeps serving")

        # the old contents, all of them, and nothing of the broken file
        for _ in range(3):
            self.assertEqual(self.answer_a("www.keep.test"), ["192.0.2.1"])
        r = self.udp_query("keep.test.", T_SOA)
        self.assertEqual([soa_serial(rd) for (_, t, _, _, rd) in r["answer"]], [1])
        r = self.udp_query("new.keep.test.", T_A)
        self.assertEqual(RCODES.get(r["rcode"]), "NXDOMAIN")
        self.assertTrue(r["aa"])

        # once fixed, the next SIGHUP serves the new version
        write_atomically(zfile, zone_text("keep.test", 3, "192.0.2.3"))
        srv.signal(signal.SIGHUP)
        self.assertEqual(self.poll_answer("www.keep.test", ["192.0.2.3"]), ["192.0.2.3"],
                         srv.log()[-4000:])

    def test_broken_zone_at_startup_is_skipped_and_others_serve(self):
        good = self.write("good.zone", zone_text("good.test", 1, "192.0.2.1"))
        bad = self.write("broken.zone", broken_zone("broken.test", 1))
        srv = self.start(["--zone", "good.test=" + good,
                          "--zone", "broken.test=" + bad,
                          "--listen", "127.0.0.1:%d" % self.port])
        for tcp in (False, True):
            r = self.dig("www.good.test", "A", tcp=tcp)
            self.assertEqual(r["rcode"], "NOERROR", r["raw"])
            self.assertIn("aa", r["flags"], r["raw"])
            self.assertEqual([(n, ty, rd) for (n, _, ty, rd) in r["answer"]],
                             [("www.good.test.", "A", "192.0.2.1")], r["raw"])
            for name in ("www.broken.test", "broken.test"):
                r = self.dig(name, "A", tcp=tcp)
                self.assertEqual(r["rcode"], "REFUSED", r["raw"])
                self.assertNotIn("aa", r["flags"], r["raw"])
                self.assertEqual(r["answer"], [], r["raw"])
        log = srv.log()
        self.assertIn("%s:%d: error:" % (bad, BROKEN_LINE), log)
        self.assertRegex(log, r"zone broken\.test\.? not loaded from %s; it is not served"
                         % re.escape(bad))
        self.assertRegex(log, r"zone good\.test\. loaded from ")
        self.assertNotRegex(log, r"zone broken\.test\.? loaded from ")


# --------------------------------------------------------------------------
# 4. --config
# --------------------------------------------------------------------------

class TestConfig(DaemonTest):

    def test_config_file_serves_udp_and_tcp_on_ipv4_and_ipv6(self):
        os.mkdir(os.path.join(self.dir, "zones"))
        self.write("zones/cfg.zone", zone_text("cfg.test", 7, "192.0.2.7"))
        cfg = self.write("anamed.yaml",
                         "# test configuration\n"
                         "listen:\n"
                         "  - 127.0.0.1:%d\n"
                         "  - \"[::1]:%d\"\n"
                         "workers: 1\n"
                         "zones:\n"
                         "  - name: cfg.test\n"
                         "    file: zones/cfg.zone\n" % (self.port, self.port))
        # cwd is / so that the zone path can only work relative to the config file
        self.start(["--config", cfg], hosts=("127.0.0.1", "::1"), cwd="/")
        for host in ("127.0.0.1", "::1"):
            for tcp in (False, True):
                r = self.dig("www.cfg.test", "A", host=host, tcp=tcp)
                self.assertEqual(r["rcode"], "NOERROR", r["cmd"] + "\n" + r["raw"])
                self.assertIn("aa", r["flags"], r["raw"])
                self.assertEqual([(n, ty, rd) for (n, _, ty, rd) in r["answer"]],
                                 [("www.cfg.test.", "A", "192.0.2.7")], r["cmd"] + "\n" + r["raw"])
        log = self.server.log()
        self.assertIn("listening on [::1]:%d" % self.port, log)
        self.assertIn("zone cfg.test. loaded from %s" % os.path.join(self.dir, "zones", "cfg.zone"),
                      log)

    def test_unknown_key_exits_2_with_file_and_line(self):
        self.write("zones.zone", zone_text("cfg.test", 1, "192.0.2.1"))
        cases = {
            "top level": ("listen:\n"
                          "  - 127.0.0.1:%d\n"
                          "listne:\n"                       # line 3
                          "  - 127.0.0.1:%d\n"
                          "zones:\n"
                          "  - name: cfg.test\n"
                          "    file: zones.zone\n" % (self.port, self.port), 3),
            "nested in tcp": ("listen:\n"
                              "  - 127.0.0.1:%d\n"
                              "tcp:\n"
                              "  idle-timeout-ms: 500\n"
                              "  idle-timeout: 500\n"          # line 5
                              "zones:\n"
                              "  - name: cfg.test\n"
                              "    file: zones.zone\n" % self.port, 5),
        }
        for what, (text, line) in cases.items():
            with self.subTest(what):
                cfg = self.write("bad-%d.yaml" % line, text)
                try:
                    rc, out = self.run_anamed(["--config", cfg], timeout=10)
                except subprocess.TimeoutExpired:
                    self.fail("anamed --config %s did not exit (it accepted the unknown key)" % cfg)
                self.assertEqual(rc, 2, out)
                self.assertIn("%s:%d: unknown key" % (cfg, line), out)


# --------------------------------------------------------------------------
# 5. --check   6. startup log
# --------------------------------------------------------------------------

class TestCheckAndLog(DaemonTest):

    def test_check_accepts_the_good_zone_and_rejects_cname_beside_data(self):
        good = os.path.join(DATA, "test.zone")
        rc, out = self.run_anamed(["--check", "--zone", "example.test=" + good])
        self.assertEqual(rc, 0, out)
        self.assertRegex(out, r"zone example\.test\. loaded from ")
        self.assertNotIn("error:", out)

        bad = os.path.join(DATA, "bad-cname.zone")
        rc, out = self.run_anamed(["--check", "--zone", "bad.test=" + bad])
        self.assertNotEqual(rc, 0, out)
        self.assertIn("use ALIAS", out)
        self.assertIn("%s:10: error:" % bad, out)     # the A beside the CNAME

    def test_log_says_what_is_served(self):
        srv = self.start(["--zone", "example.test=" + os.path.join(DATA, "test.zone"),
                          "--listen", "127.0.0.1:%d" % self.port,
                          "--listen", "[::1]:%d" % self.port], hosts=("127.0.0.1", "::1"))
        log = srv.log()
        self.assertRegex(log, r"(?m)^\S+ anamed info: listening on 127\.0\.0\.1:%d\b" % self.port)
        self.assertRegex(log, r"(?m)^\S+ anamed info: listening on \[::1\]:%d\b" % self.port)
        self.assertRegex(log, r"(?m)^\S+ anamed info: zone example\.test\. loaded from %s: serial 2026112601"
                         % re.escape(os.path.join(DATA, "test.zone")))
        rc, secs = srv.stop()
        self.assertEqual(rc, 0, srv.log())
        self.assertRegex(srv.log(), r"anamed info: stopped")


# --------------------------------------------------------------------------
# 7. TCP idle timeout and connection limit   8. SIGTERM mid-connection
# --------------------------------------------------------------------------

class TestTcp(DaemonTest):

    def start_with_tcp(self, tcp_yaml):
        self.write("t.zone", zone_text("tcp.test", 1, "192.0.2.1"))
        cfg = self.write("anamed.yaml",
                         "listen: [\"127.0.0.1:%d\"]\n"
                         "tcp: %s\n"
                         "zones:\n"
                         "  - {name: tcp.test, file: t.zone}\n" % (self.port, tcp_yaml))
        return self.start(["--config", cfg])

    def assertTcpWorks(self, sock):
        r = self.tcp_query(sock, "www.tcp.test.")
        self.assertEqual(RCODES.get(r["rcode"]), "NOERROR")
        self.assertEqual([socket.inet_ntoa(rd) for (_, t, _, _, rd) in r["answer"]],
                         ["192.0.2.1"])

    def test_idle_connection_is_closed_after_the_idle_timeout(self):
        self.start_with_tcp("{idle-timeout-ms: 500}")
        with self.tcp_connect() as s:
            t = self.assertClosedByServer(s, within=3.0)
        self.assertGreaterEqual(t, 0.3, "closed after %.2f s, before the 500 ms timeout" % t)
        # a connection in use is kept as long as it is used more often than that
        with self.tcp_connect() as s:
            for _ in range(4):
                self.assertTcpWorks(s)
                time.sleep(0.2)
            t = self.assertClosedByServer(s, within=3.0)

    def test_when_full_the_longest_idle_connection_makes_room(self):
        # RFC 7766 §6.2.3: under pressure the idle connection goes, not the new client.
        self.start_with_tcp("{max-connections: 2, idle-timeout-ms: 20000}")
        time.sleep(0.2)
        a = self.tcp_connect()
        self.addCleanup(a.close)
        time.sleep(0.2)
        b = self.tcp_connect()
        self.addCleanup(b.close)
        time.sleep(0.3)                  # both accepted and idle, a for longer
        with self.tcp_connect() as c:
            self.assertTcpWorks(c)
            self.assertClosedByServer(a, within=1.0)
            self.assertTcpWorks(b)

    def test_sigterm_with_clients_mid_tcp_connection_exits_0(self):
        zfile = self.write("t.zone", zone_text("tcp.test", 1, "192.0.2.1"))
        srv = self.start(["--zone", "tcp.test=" + zfile,
                          "--listen", "127.0.0.1:%d" % self.port], check_stop=False)
        socks = []
        try:
            # 1: half a query sent (length prefix and part of the message)
            s1 = self.tcp_connect()
            socks.append(s1)
            q = tcp_frame(build_query(0x1234, "www.tcp.test"))
            s1.sendall(q[:7])
            # 2: answered, then idle
            s2 = self.tcp_connect()
            socks.append(s2)
            self.assertTcpWorks(s2)
            # 3: pipelines many queries and never reads (the server's writes back up)
            s3 = self.tcp_connect()
            socks.append(s3)
            s3.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s3.setblocking(False)
            burst = b"".join(tcp_frame(build_query(i, "www.tcp.test")) for i in range(2000))
            try:
                s3.send(burst)
            except BlockingIOError:
                pass
            time.sleep(0.3)
            rc, secs = srv.stop(timeout=5.0)
            if rc is None:
                srv.kill()
                self.fail("anamed did not exit within 5 s of SIGTERM with open TCP clients:\n"
                          + srv.log()[-4000:])
            self.assertEqual(rc, 0, "exit status %s after SIGTERM:\n%s" % (rc, srv.log()[-4000:]))
            self.assertIn("stopped", srv.log())
        finally:
            for s in socks:
                s.close()


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
