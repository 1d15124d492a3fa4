#!/usr/bin/env python3
"""bench/compare's report: results.env -> markdown table (+ machine), optional chart and
docs/PERFORMANCE.md section (between <!-- compare:begin --> and <!-- compare:end -->;
the rest of the file, the analysis, is left as written).

  report.py --results FILE --table OUT.md [--doc docs/PERFORMANCE.md --chart docs/performance.png]
"""
import argparse
import os
import platform
import re
import subprocess
import sys
import time

BEGIN, END = "<!-- compare:begin -->", "<!-- compare:end -->"


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception:
        return ""


def machine(g):
    cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-").strip() or platform.processor()
    mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2 / 1048576}' /proc/meminfo")
    deb = sh("cat /etc/debian_version")
    vers = {
        "Knot DNS": sh("knotd -V | awk '{print $NF}'"),
        "NSD": sh("nsd -v 2>&1 | awk 'NR==1 {print $NF}'"),
        "PowerDNS": sh("dpkg-query -W -f='${Version}' pdns-server"),
        "dnsperf": sh("dpkg-query -W -f='${Version}' dnsperf"),
        "DPDK": sh("dpkg-query -W -f='${Version}' dpdk-dev"),
    }
    probe = ""
    if g("machine.dependent_load_512") is not None:  # bench/memory_probe_bench, core 1
        probe = ("- memory as the 1M table meets it (`memory_probe_bench`, huge pages): a dependent load "
                 "%s ns within 1 MiB, %s ns over 512 MiB; random prefetches over 512 MiB, issued back to back, "
                 "%s ns per page for one line, %s ns for two\n"
                 % tuple(fmt(g(k)) for k in ("machine.dependent_load_1", "machine.dependent_load_512",
                                             "machine.random_prefetch_512_1", "machine.random_prefetch_512_2")))
    if g("machine.prefetch_among_work_512_96") is not None:
        probe += ("- a prefetch among other work (96 dependent multiplies between two): it costs the core %s ns when it "
                  "goes to a random page of 512 MiB, %s ns within 2 MiB (the page walk; see PERFORMANCE.md, "
                  "section 3)\n" % (fmt(g("machine.prefetch_among_work_512_96")),
                                      fmt(g("machine.prefetch_among_work_2_32"))))
    return ("- %s cores (`nproc`), CPU: %s, memory %s, kernel %s, Debian %s\n- peers: %s\n%s"
            % (sh("nproc"), cpu, mem, platform.release(), deb,
               ", ".join("%s %s" % kv for kv in vers.items() if kv[1]), probe))


def load(path):
    r = {}
    for line in open(path):
        if "=" in line:
            k, v = line.strip().split("=", 1)
            try:
                r[k] = float(v)
            except ValueError:
                r[k] = v
    return r


def fmt(v, unit=""):
    if v is None:
        return "—"
    if unit == "kB":
        return "%.0f MiB" % (v / 1024)
    if abs(v) >= 1e6:
        s = "%.2f M" % (v / 1e6)
    elif abs(v) >= 1e4:
        s = "%.0f" % v if unit != "kB" else "%.0f MiB" % (v / 1024)
        if unit == "kB":
            return s
    elif abs(v) >= 100:
        s = "%.0f" % v
    else:
        s = "%.2f" % v
    return s + ((" " + unit) if unit else "")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--table", required=True)
    ap.add_argument("--doc")
    ap.add_argument("--chart")
    a = ap.parse_args()
    r = load(a.results)
    g = r.get

    rows = []  # (row, metric, anamed, peer name, peer, ratio, target text, met, unit)
    chart = []  # (label, advantage (>1: anamed better), target advantage or None)

    def add(row, metric, av, peer, pv, target=None, lower_better=False, unit="", chart_label=None, met=None):
        ratio = (av / pv) if (av is not None and pv) else None
        if met is None and target is not None and ratio is not None:
            met = ratio <= target if lower_better else ratio >= target
        ttxt = "" if target is None else ("≤ %gx" % target if lower_better else "≥ %gx" % target)
        rows.append((row, metric, av, peer, pv, ratio, ttxt, met, unit))
        if chart_label and ratio:
            adv = 1 / ratio if lower_better else ratio
            tadv = None if target is None else (1 / target if lower_better else target)
            chart.append((chart_label, adv, tadv))

    rate = fmt(g("rate")) if g("rate") else "a fixed rate"
    add("1 kernel UDP", "server CPU per answered query at %s qps" % rate, g("r1.anamed.fixed.cpu_us"), "Knot",
        g("r1.knot.fixed.cpu_us"), 0.8, True, "µs", "CPU/query vs Knot")
    add("1 kernel UDP", "server CPU per answered query at %s qps" % rate, g("r1.anamed.fixed.cpu_us"), "NSD",
        g("r1.nsd.fixed.cpu_us"), None, True, "µs", "CPU/query vs NSD")
    add("1 kernel UDP", "of which user space", g("r1.anamed.fixed.user_us"), "Knot", g("r1.knot.fixed.user_us"),
        None, True, "µs")
    add("1 kernel UDP", "of which user space", g("r1.anamed.fixed.user_us"), "NSD", g("r1.nsd.fixed.user_us"),
        None, True, "µs")
    add("1 kernel UDP", "answered qps, dnsperf unlimited", g("r1.anamed.qps"), "Knot", g("r1.knot.qps"),
        chart_label="qps vs Knot")
    add("1 kernel UDP", "answered qps, dnsperf unlimited", g("r1.anamed.qps"), "NSD", g("r1.nsd.qps"))
    add("1 kernel UDP", "server CPU per answered query, unlimited", g("r1.anamed.cpu_us"), "Knot",
        g("r1.knot.cpu_us"), None, True, "µs")
    add("2 ALIAS", "answered qps, A/AAAA at ALIAS names", g("r2.anamed.qps"), "PowerDNS", g("r2.pdns.qps"),
        10, False, "", "ALIAS qps vs PowerDNS")
    add("2 ALIAS", "answered qps, A/AAAA at ALIAS names", g("r2.anamed.qps"), "PowerDNS, no packet cache",
        g("r2.pdns_nocache.qps"), 10, False, "", "ALIAS qps vs PDNS no cache")
    add("2 ALIAS", "server CPU per answered query", g("r2.anamed.cpu_us"), "PowerDNS", g("r2.pdns.cpu_us"),
        None, True, "µs")
    add("2 ALIAS", "server CPU per answered query", g("r2.anamed.cpu_us"), "PowerDNS, no packet cache",
        g("r2.pdns_nocache.cpu_us"), None, True, "µs")
    reps = int(g("reps") or 1)
    med = " (median of %d)" % reps if reps > 1 else ""
    add("2 ALIAS, veth", "answered qps, kxdpgun; DPDK af_packet vs PowerDNS on the veth" + med, g("r2v.anamed.qps"),
        "PowerDNS", g("r2v.pdns.qps"), 10, False, "", "ALIAS over veth vs PowerDNS")
    for pre, pmd in (("r3", "af_packet"), ("r3x", "af_xdp")):
        add("3 veth", "answered qps, kxdpgun; DPDK %s%s" % (pmd, med), g(pre + ".anamed.qps"), "Knot XDP",
            g(pre + ".knot.qps"), 2, False, "", "veth (%s) vs Knot XDP" % pmd)
        add("3 veth", "answered qps, kxdpgun; DPDK %s%s" % (pmd, med), g(pre + ".anamed.qps"), "testpmd 5tswap",
            g(pre + ".testpmd.qps"), 0.9, False, "", "veth (%s) vs testpmd" % pmd)
    big_label = "%gk names" % ((g("big") or 0) / 1000) if (g("big") or 0) < 1e6 else "%gM names" % (g("big") / 1e6)
    pp = g("r3.pp.mqps")
    pp_runs = str(g("r3.pp.runs") or "").replace(" ", ", ")
    add("3 in-process, " + big_label, "packet path Mqps/core (parse+respond+rewrite)%s%s" % (med, "; runs: " + pp_runs if pp_runs else ""), pp, "5tswap in process",
        g("r3.pp5t.mqps"), None, False, "Mqps", met=None)
    rows.append(("3 in-process, " + big_label, "packet path Mqps/core, absolute", pp, "target", 10.0,
                 pp / 10 if pp else None, "≥ 10 Mqps", (pp >= 10) if pp else None, "Mqps"))
    z4 = "4 zone load, " + big_label
    runs4 = lambda key: str(g("r4.%s.load_runs" % key) or "").replace(" ", ", ")
    for peer, key in (("Knot", "knot"), ("NSD", "nsd")):
        add(z4, "start → first correct answer%s; %s: %s s" % (med, peer, runs4(key)), g("r4.anamed.load_s"), peer,
            g("r4.%s.load_s" % key), None, True, "s", "load time vs %s" % peer)
    la = g("r4.anamed.load_s")
    rows.append((z4, "start → first correct answer, absolute%s; runs: %s s" % (med, runs4("anamed")), la, "target", 3.0,
                 la / 3 if la else None, "≤ 3 s", (la <= 3) if la else None, "s"))
    add(z4, "VmRSS after load", g("r4.anamed.rss_kb"), "Knot", g("r4.knot.rss_kb"), 1, True, "kB",
        "memory vs Knot")
    add(z4, "VmRSS after load (NSD: largest process)", g("r4.anamed.rss_kb"), "NSD",
        g("r4.nsd.rss_kb"), None, True, "kB", "memory vs NSD")
    am = g("r5.alias.mean_us")
    add("5 change, %s" % big_label, "ALIAS target change → dataplane (mean µs)", am, "full recompile",
        (g("r5.recompile.ms") or 0) * 1000 or None, None, True, "µs")
    rows.append(("5 change, %s" % big_label, "ALIAS change, absolute (worst %s µs)" % fmt(g("r5.alias.worst_us")), am, "target",
                 10000.0, am / 10000 if am else None, "≤ 10 ms", (am <= 10000) if am else None, "µs"))
    cm = g("r5.ctl.median_ms")
    rows.append(("5 change, %s" % big_label, "anamectl record add → visible, median of %d (p90 %s ms)"
                 % (int(g("r5.ctl.count") or 0), fmt(g("r5.ctl.p90_ms"))), cm, "target", 10.0,
                 cm / 10 if cm else None, "≤ 10 ms", (cm <= 10) if cm else None, "ms"))
    rows.append(("5 change, %s" % big_label, "publish_us reported by anamed (median; max %s)" % fmt(g("r5.ctl.publish_us_max")),
                 g("r5.ctl.publish_us_median"), "`anamectl zone list` wall time",
                 (g("r5.ctl.tool_ms") or 0) * 1000 or None, None, "", None, "µs"))

    out = ["| row | metric | anamed | peer | peer value | anamed / peer | target | met |",
           "|---|---|---:|---|---:|---:|---|---|"]
    for row, metric, av, peer, pv, ratio, ttxt, met, unit in rows:
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            row, metric, fmt(av, unit), peer, fmt(pv, unit), ("%.2fx" % ratio if ratio >= 0.01 else "1/%.0f" % (1 / ratio)) if ratio else "—", ttxt,
            "" if met is None else ("yes" if met else "**no**")))
    failed = [k for k in r if k.endswith(".failed")]
    note = ("\nRows that failed in this run: %s (see the script's log).\n" % ", ".join(failed)) if failed else ""
    table = "\n".join(out) + "\n" + note
    head = ("Run %s: %s customers for rows 1–3 (dnsperf %s s per server), %s for the in-process packet path "
            "and rows 4–5; %s s in all.\n\n"
            % (time.strftime("%Y-%m-%d %H:%M"), fmt(g("customers")).replace(".00", ""), fmt(g("secs")).replace(".00", ""),
               fmt(g("big")).replace(".00", ""), fmt(g("total_s")).replace(".00", "")))
    section = head + "Machine:\n\n" + machine(g) + "\n" + table
    with open(a.table, "w") as f:
        f.write(section)

    # absolute targets as bars too: target / measured (or measured / target), 1 = on target
    if pp:
        chart.append(("packet path / 10 Mqps", pp / 10, 1.0))
    if la:
        chart.append(("3 s / 1M-zone load time", 3 / la, 1.0))
    if cm:
        chart.append(("10 ms / change latency", 10 / cm, 1.0))
    if a.chart and chart:
        dat = a.chart + ".dat"
        with open(dat, "w") as f:
            for i, (label, adv, tadv) in enumerate(chart):
                f.write('%d "%s" %.4f %s\n' % (i, label, adv, "%.4f" % tadv if tadv else "NaN"))
        gp = """set terminal pngcairo size 1300,560 font ",10" noenhanced
set output '%s'
set title "anamed relative to each peer in the same run, and to the absolute targets (higher = anamed better; x = target; log scale)"
set style fill solid 0.7
set boxwidth 0.6
set logscale y
set yrange [0.05:20]
set rmargin 16
set bmargin 9
set ytics (0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 50)
set grid ytics
set xtics rotate by -30 left
set key off
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2
plot '%s' using 1:3:xtic(2) with boxes lc rgb "#3b7dd8", '' using 1:4 with points pt 2 ps 2 lw 2 lc rgb "#d83b3b", \\
     '' using 1:3:(sprintf("%%.2f", $3)) with labels offset 0,0.8
""" % (a.chart, dat)
        subprocess.run(["gnuplot"], input=gp, text=True, check=False)
        os.unlink(dat)

    if a.doc:
        body = "%s\n%s\n![anamed vs peers](performance.png)\n%s" % (BEGIN, section, END)
        if os.path.exists(a.doc):
            text = open(a.doc).read()
            if BEGIN in text and END in text:
                text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: body, text, flags=re.S)
            else:
                text += "\n" + body + "\n"
        else:
            text = "# Performance\n\nGenerated by `bench/compare`.\n\n" + body + "\n"
        with open(a.doc, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
