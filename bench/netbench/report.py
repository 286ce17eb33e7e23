#!/usr/bin/env python3
"""Report of the fwd network benchmark (bench/netbench/run.sh).

    report.py build OUTDIR   read OUTDIR/events.jsonl and OUTDIR/raw/*.json; write
                             OUTDIR/results.json, OUTDIR/table.md and OUTDIR/chart.png, and
                             print the table and the fwd targets check
    report.py line RAWFILE   one-line summary of one raw measurement (run.sh prints it)

Python 3 standard library, plus matplotlib for the chart (skipped with a note if missing).
"""

import json
import os
import re
import statistics
import sys

MODES = ["A", "B", "C", "D", "E", "F", "Enofp"]  # the main table's columns
MODES6 = ["A6", "B6", "E6"]  # the IPv6 table's columns
EXTRA_MODES = ["B10k", "E10k", "Ecsum", "Fcsum"]
# Each table's ratios are to the direct and the iptables mode of its own address family.
BASELINES = {**{m: ("A", "B") for m in MODES}, **{m: ("A6", "B6") for m in MODES6}}
MODE_NAMES = {
    "A": "A direct (no NAT)",
    "B": "B iptables DNAT (Docker)",
    "C": "C nftables DNAT",
    "D": "D socat proxy",
    "E": "E fwd TC",
    "F": "F fwd XDP",
    "Enofp": "E′ fwd TC, fast path off",
    "B10k": "B iptables, 10k rules",
    "E10k": "E fwd TC, 10k mappings",
    "Ecsum": "E fwd TC, client checksum offload off",
    "Fcsum": "F fwd XDP, client checksum offload off",
    "A6": "A6 direct IPv6 (no NAT)",
    "B6": "B6 ip6tables DNAT (Docker)",
    "E6": "E6 fwd TC, IPv6",
}

# key, label, unit, higher is better
METRICS = [
    ("tcp1", "TCP throughput, 1 stream", "Gbit/s", True),
    ("tcp4", "TCP throughput, 4 streams", "Gbit/s", True),
    ("udp_kpps", "UDP 64 B received", "kpps", True),
    ("udp_loss", "UDP loss", "%", False),
    ("crr", "New connections (connect, 64 B request/reply, close)", "conn/s", True),
    ("rr_p50", "Request/response latency p50", "µs", False),
    ("rr_p99", "Request/response latency p99", "µs", False),
]
RATIO_METRICS = ["tcp1", "tcp4", "udp_kpps", "crr", "rr_p50", "rr_p99"]
SCALE_METRICS = ["tcp1", "crr"]
INSTALL_METHODS = [
    ("fwd_range", "fwd: one `fwdctl add` of the port range"),
    ("fwd_per_call", "fwd: one `fwdctl add` call per mapping"),
    ("iptables_restore", "iptables: one `iptables-restore`"),
    ("iptables_per_rule", "iptables: one `iptables -A` call per rule (dockerd's way)"),
]
RAW_NAME = re.compile(r"^r(\d+)_([A-Za-z0-9]+)_([a-z0-9]+)\.json$")


def load_json(path):
    with open(path, encoding="utf-8") as f:
        text = f.read().strip()
    if not text:
        return {"error": "empty output"}
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        return {"error": f"not JSON ({e})"}


def values_of(kind, data):
    """Metric values from one raw file: {metric: value}, or (None, error)."""
    if not isinstance(data, dict):
        return None, "unexpected output"
    if data.get("error"):
        return None, str(data["error"])
    if kind in ("tcp1", "tcp4"):
        try:
            bps = data["end"]["sum_received"]["bits_per_second"]
        except (KeyError, TypeError):
            return None, "iperf3 output without end.sum_received"
        return {kind: bps / 1e9}, None
    if kind == "udp":
        send, recv = data.get("send", {}), data.get("recv", {})
        sent, received, secs = send.get("sent", 0), recv.get("received", 0), send.get("seconds", 0)
        if not sent or not secs:
            return None, "nothing sent"
        if not received:
            return None, f"sent {sent} datagrams, none received"
        return {
            "udp_kpps": received / secs / 1000.0,
            "udp_loss": max(0.0, 100.0 * (sent - received) / sent),
        }, None
    if kind == "crr":
        if not data.get("conns"):
            return None, data.get("first_error") or "no connection completed"
        return {"crr": data["conns_per_s"]}, None
    if kind == "rr":
        if not data.get("transactions"):
            return None, data.get("error") or "no transaction"
        return {"rr_p50": data["p50_us"], "rr_p99": data["p99_us"]}, None
    return None, f"unknown measurement '{kind}'"


def fmt_num(v):
    if v is None:
        return "n/a"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def fmt_ratio(r):
    return "n/a" if r is None else f"{r:.2f}×"


def summarize(vals):
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)}


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def med(summary, mode, metric):
    s = summary.get(mode, {}).get(metric)
    return s["median"] if s else None


def read_events(out_dir):
    events = []
    path = os.path.join(out_dir, "events.jsonl")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    events.append(json.loads(line))
    return events


def collect(out_dir):
    events = read_events(out_dir)
    meta = next((e for e in events if e.get("kind") == "meta"), {})
    mode_events = [e for e in events if e.get("kind") == "mode"]
    samples, errors = [], []
    raw_dir = os.path.join(out_dir, "raw")
    for name in sorted(os.listdir(raw_dir)) if os.path.isdir(raw_dir) else []:
        m = RAW_NAME.match(name)
        if not m:
            continue
        run, mode, kind = int(m.group(1)), m.group(2), m.group(3)
        vals, err = values_of(kind, load_json(os.path.join(raw_dir, name)))
        if err:
            errors.append({"run": run, "mode": mode, "measurement": kind, "error": err})
            continue
        for metric, value in vals.items():
            samples.append({"run": run, "mode": mode, "metric": metric, "value": value})

    summary = {}
    for mode in MODES + MODES6 + EXTRA_MODES:
        for metric, *_ in METRICS:
            vals = [s["value"] for s in samples if s["mode"] == mode and s["metric"] == metric]
            s = summarize(vals)
            if s:
                summary.setdefault(mode, {})[metric] = s

    na = {}  # mode -> [{"run": N, "error": text}]
    for e in mode_events:
        if e.get("status") == "na":
            na.setdefault(e["mode"], []).append(
                {"run": e["run"], "error": e.get("detail", "").strip()}
            )
    busy = {}
    for e in mode_events:
        busy.setdefault(e["mode"], []).append(e.get("busy_pct", 0))

    install = {}
    for e in events:
        if e.get("kind") == "install":
            install.setdefault(e["method"], {"count": e["count"], "seconds": []})
            install[e["method"]]["seconds"].append(e["seconds"])
    for v in install.values():
        v["summary"] = summarize(v["seconds"])
    memory = next((e for e in events if e.get("kind") == "memory"), None)

    ratios = {}  # mode -> metric -> {"to_A": ..., "to_B": ...} (IPv6: "to_A6", "to_B6")
    for mode, bases in BASELINES.items():
        for metric in RATIO_METRICS:
            v = med(summary, mode, metric)
            ratios.setdefault(mode, {})[metric] = {
                f"to_{base}": ratio(v, med(summary, base, metric)) for base in bases
            }
    scale = {}
    for base, big in (("E", "E10k"), ("B", "B10k")):
        for metric in SCALE_METRICS:
            scale.setdefault(base, {})[metric] = ratio(
                med(summary, big, metric), med(summary, base, metric)
            )

    return {
        "meta": meta,
        "samples": samples,
        "errors": errors,
        "summary": summary,
        "ratios": ratios,
        "scale_10k_over_1": scale,
        "na": na,
        "busy_pct_before_mode": busy,
        "install": install,
        "memory": memory,
    }


def targets(res):
    """The fwd targets of the performance issue: (name, measured, ok or None for n/a)."""
    s, out = res["summary"], []

    def check(name, value, limit, detail=""):
        ok = None if value is None else value >= limit
        shown = "n/a" if value is None else f"{value:.2f}×"
        out.append(
            {"target": name, "measured": shown + (f" ({detail})" if detail else ""), "ok": ok}
        )

    for metric, label in (
        ("tcp1", "TCP 1 stream"),
        ("tcp4", "TCP 4 streams"),
        ("udp_kpps", "UDP rate"),
    ):
        e = med(s, "E", metric)
        check(f"{label}: fwd TC ≥ 1.0× iptables", ratio(e, med(s, "B", metric)), 1.0)
        check(f"{label}: fwd TC ≥ 0.95× direct", ratio(e, med(s, "A", metric)), 0.95)
    check(
        "UDP rate: fwd XDP ≥ 1.0× fwd TC",
        ratio(med(s, "F", "udp_kpps"), med(s, "E", "udp_kpps")),
        1.0,
        "XDP n/a: " + res["na"]["F"][0]["error"][:120]
        if "F" in res["na"] and med(s, "F", "udp_kpps") is None
        else "",
    )
    check(
        "UDP rate: fwd XDP ≥ 1.0× fwd TC, client checksum offload off",
        ratio(med(s, "Fcsum", "udp_kpps"), med(s, "Ecsum", "udp_kpps")),
        1.0,
    )
    check(
        "New connections: fwd TC ≥ 1.2× iptables",
        ratio(med(s, "E", "crr"), med(s, "B", "crr")),
        1.2,
    )
    check("New connections: fwd TC ≥ 3× socat", ratio(med(s, "E", "crr"), med(s, "D", "crr")), 3.0)
    sc = res["scale_10k_over_1"]["E"]
    check("10k mappings: fwd TCP throughput ≥ 0.95× of 1 mapping", sc.get("tcp1"), 0.95)
    check("10k mappings: fwd new connections ≥ 0.95× of 1 mapping", sc.get("crr"), 0.95)
    inst = res["install"]
    fwd_t = inst.get("fwd_range", {}).get("summary")
    ipt_t = inst.get("iptables_per_rule", {}).get("summary")
    n = inst.get("fwd_range", {}).get("count", 0)
    speedup = ratio(ipt_t["median"], fwd_t["median"]) if fwd_t and ipt_t else None
    check(
        f"Install {n:,} mappings: fwd ≥ 20× faster than iptables (one call per rule)", speedup, 20.0
    )
    mem = res["memory"]
    if mem:
        added_procs = mem["fwd_procs_after"] - mem["fwd_procs_before"]
        added_bytes = (mem["fwd_map_bytes_after"] - mem["fwd_map_bytes_before"]) + mem[
            "fwd_state_bytes_after"
        ]
        out.append(
            {
                "target": f"{mem['ports']:,} ports: fwd adds no process",
                "measured": f"{added_procs} processes added",
                "ok": added_procs == 0,
            }
        )
        out.append(
            {
                "target": f"{mem['ports']:,} ports: fwd adds < 10 MiB",
                "measured": f"{added_bytes / 2**20:.2f} MiB (map growth + whole state file); "
                f"fixed map memory of an attached fwd: {mem['fwd_map_bytes_before'] / 2**20:.1f} MiB",
                "ok": added_bytes < 10 * 2**20,
            }
        )
    return out


def cell(res, mode, metric):
    s = res["summary"].get(mode, {}).get(metric)
    if not s:
        return "n/a"
    text = f"{fmt_num(s['median'])} [{fmt_num(s['min'])}–{fmt_num(s['max'])}]"
    if metric in RATIO_METRICS:
        parts = []
        r = res["ratios"][mode][metric]
        for base in BASELINES[mode]:
            if mode != base and r[f"to_{base}"] is not None:
                parts.append(f"{fmt_ratio(r[f'to_{base}'])} {base}")
        if parts:
            text += "<br>" + ", ".join(parts)
    return text


def mode_table(res, modes):
    lines = ["| metric | " + " | ".join(MODE_NAMES[m] for m in modes) + " |"]
    lines.append("|---|" + "---:|" * len(modes))
    for metric, label, unit, _ in METRICS:
        lines.append(
            f"| {label} ({unit}) | " + " | ".join(cell(res, m, metric) for m in modes) + " |"
        )
    return lines


def markdown(res):
    meta, lines = res["meta"], []
    lines.append(
        f"Measured {meta.get('date', '?')} on {meta.get('cores', '?')} cores ({meta.get('cpu', '?')}), "
        f"Linux {meta.get('kernel', '?')}; {meta.get('runs', '?')} interleaved runs of "
        f"{meta.get('seconds', '?')} s per measurement; {meta.get('iptables', '?')}; fwd at "
        f"{meta.get('git_head', '?')}"
        + (
            f" with {meta['git_modified_files']} modified tracked files"
            if meta.get("git_modified_files")
            else ""
        )
        + ("; QUICK run (development only)" if meta.get("quick") else "")
        + "."
    )
    lines.append("")
    lines.append(
        "Cells: median [min–max] over the runs; below it the ratio of the medians to (A) "
        "and to (B). For latency and loss lower is better (a ratio above 1× is slower)."
    )
    lines.append("")
    lines += mode_table(res, MODES)
    if any(m in res["summary"] for m in MODES6):
        lines.append("")
        lines.append(
            "IPv6, measured in the same runs: ratios to A6 (direct IPv6 routing) and to B6 "
            "(Docker's ip6tables DNAT)."
        )
        lines.append("")
        lines += mode_table(res, MODES6)
    for mode, fails in sorted(res["na"].items()):
        runs = ", ".join(str(f["run"]) for f in fails)
        lines.append("")
        lines.append(f"{MODE_NAMES.get(mode, mode)}: n/a in run {runs} — {fails[0]['error']}")

    lines.append("")
    lines.append(
        f"With {meta.get('scale_count', 10000):,} more mappings present (iptables: the measured "
        "port's rules last in DOCKER, filter DOCKER and POSTROUTING):"
    )
    lines.append("")
    lines.append(
        "| metric | fwd TC, 1 | fwd TC, 10k | 10k/1 | iptables, 1 | iptables, 10k | 10k/1 |"
    )
    lines.append("|---|---:|---:|---:|---:|---:|---:|")
    for metric, label, unit, _ in METRICS:
        if metric not in SCALE_METRICS:
            continue
        row = [f"{label} ({unit})"]
        for base, big in (("E", "E10k"), ("B", "B10k")):
            for mode in (base, big):
                s = res["summary"].get(mode, {}).get(metric)
                row.append(
                    f"{fmt_num(s['median'])} [{fmt_num(s['min'])}–{fmt_num(s['max'])}]"
                    if s
                    else "n/a"
                )
            row.append(fmt_ratio(res["scale_10k_over_1"][base].get(metric)))
        lines.append("| " + " | ".join(row) + " |")

    if "Ecsum" in res["summary"] or "Fcsum" in res["summary"]:
        lines.append("")
        lines.append(
            "fwd TC against fwd XDP when the client's packets carry complete checksums "
            "(client veth: `ethtool -K eth0 tx off`, which also turns TSO off):"
        )
        lines.append("")
        lines.append(f"| metric | {MODE_NAMES['Ecsum']} | {MODE_NAMES['Fcsum']} | XDP/TC |")
        lines.append("|---|---:|---:|---:|")
        for metric, label, unit, _ in METRICS:
            if metric not in ("tcp1", "udp_kpps", "udp_loss"):
                continue
            row = [f"{label} ({unit})"]
            for mode in ("Ecsum", "Fcsum"):
                v = res["summary"].get(mode, {}).get(metric)
                row.append(
                    f"{fmt_num(v['median'])} [{fmt_num(v['min'])}–{fmt_num(v['max'])}]"
                    if v
                    else "n/a"
                )
            row.append(
                ""
                if metric == "udp_loss"
                else fmt_ratio(
                    ratio(
                        med(res["summary"], "Fcsum", metric), med(res["summary"], "Ecsum", metric)
                    )
                )
            )
            lines.append("| " + " | ".join(row) + " |")

    inst = res["install"]
    if inst:
        fwd_t = inst.get("fwd_range", {}).get("summary")
        lines.append("")
        lines.append("Time to install the mappings (seconds, median [min–max]):")
        lines.append("")
        lines.append("| method | mappings | seconds | per mapping | vs fwd |")
        lines.append("|---|---:|---:|---:|---:|")
        for key, label in INSTALL_METHODS:
            v = inst.get(key)
            if not v or not v["summary"]:
                continue
            s = v["summary"]
            per = s["median"] / v["count"] * 1e6
            vs = ratio(s["median"], fwd_t["median"]) if fwd_t else None
            lines.append(
                f"| {label} | {v['count']:,} | {s['median']:.3f} [{s['min']:.3f}–{s['max']:.3f}] "
                f"| {per:,.0f} µs | {fmt_ratio(vs)} |"
            )

    mem = res["memory"]
    if mem:
        n = mem["ports"]
        map_added = mem["fwd_map_bytes_after"] - mem["fwd_map_bytes_before"]
        socat_procs = mem["socat_procs_after"] - mem["socat_procs_before"]
        lines.append("")
        lines.append(f"Publishing {n:,} TCP ports:")
        lines.append("")
        lines.append("| | processes added | memory |")
        lines.append("|---|---:|---|")
        lines.append(
            f"| fwd (`fwdctl add` of a {n:,}-port range, {mem['fwd_add_seconds']:.2f} s) "
            f"| {mem['fwd_procs_after'] - mem['fwd_procs_before']} "
            f"| maps +{map_added / 1024:,.0f} KiB (fixed after attach: {mem['fwd_map_bytes_before'] / 2**20:.1f} MiB, "
            f"bpftool memlock); state file {mem['fwd_state_bytes_after'] / 1024:,.0f} KiB |"
        )
        lines.append(
            f"| socat, one per port ({mem['socat_listeners']:,} listening) | {socat_procs:,} "
            f"| PSS {mem['socat_pss_kb'] / 1024:,.1f} MiB (RSS {mem['socat_rss_kb'] / 1024:,.0f} MiB), "
            f"{mem['socat_pss_kb'] / max(socat_procs, 1):,.0f} KiB PSS per process |"
        )

    lines.append("")
    lines.append("fwd targets:")
    lines.append("")
    lines.append("| target | measured | |")
    lines.append("|---|---|---|")
    for t in res["targets"]:
        verdict = "n/a" if t["ok"] is None else ("PASS" if t["ok"] else "FAIL")
        lines.append(f"| {t['target']} | {t['measured']} | {verdict} |")

    busy = res["busy_pct_before_mode"]
    worst = max((max(v) for v in busy.values() if v), default=0)
    lines.append("")
    lines.append(
        f"Other load on the machine right before a mode started: at most {worst}% CPU "
        f"(sampled for 0.5 s; the script waits up to {meta.get('quiet_wait', '?')} s per mode "
        f"and {meta.get('quiet_budget', '?')} s in all for it to fall below 15%)."
    )
    if res["errors"]:
        lines.append("")
        lines.append(
            "Failed measurements: "
            + "; ".join(
                f"run {e['run']} {e['mode']} {e['measurement']}: {e['error'][:100]}"
                for e in res["errors"]
            )
        )
    return "\n".join(lines) + "\n"


def chart(res, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("report: matplotlib missing, no chart", file=sys.stderr)
        return False
    labels = {
        "tcp1": "TCP 1 stream",
        "tcp4": "TCP 4 streams",
        "udp_kpps": "UDP 64 B pps",
        "crr": "new conn/s",
        "rr_p50": "RR latency p50",
        "rr_p99": "RR latency p99",
    }
    # Every mode against the direct mode of its family; the IPv6 bars are hatched.
    modes = [m for m in MODES[1:] + MODES6[1:] if m in res["summary"]]
    fig, axes = plt.subplots(1, 3, figsize=(16, 5.2), gridspec_kw={"width_ratios": [3.2, 1.3, 1.3]})
    ax = axes[0]
    width = 0.8 / max(len(modes), 1)
    colors = {
        "B": "#d62728",
        "C": "#ff7f0e",
        "D": "#8c564b",
        "E": "#1f77b4",
        "F": "#17becf",
        "Enofp": "#9ecae1",
        "B6": "#d62728",
        "E6": "#1f77b4",
    }
    for i, mode in enumerate(modes):
        ys, lo, hi = [], [], []
        for metric in RATIO_METRICS:
            s = res["summary"].get(mode, {}).get(metric)
            a = med(res["summary"], BASELINES[mode][0], metric)
            if not s or not a:
                ys.append(0)
                lo.append(0)
                hi.append(0)
                continue
            if metric.startswith("rr_"):  # latency: A / mode, so that higher is better everywhere
                y, y_lo, y_hi = a / s["median"], a / s["max"], a / s["min"]
            else:
                y, y_lo, y_hi = s["median"] / a, s["min"] / a, s["max"] / a
            ys.append(y)
            lo.append(y - y_lo)
            hi.append(y_hi - y)
        xs = [j + (i - (len(modes) - 1) / 2) * width for j in range(len(RATIO_METRICS))]
        ax.bar(
            xs,
            ys,
            width,
            label=MODE_NAMES[mode],
            color=colors.get(mode),
            hatch="//" if mode in MODES6 else None,
            yerr=[lo, hi],
            error_kw={"elinewidth": 0.8, "capsize": 2},
        )
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(RATIO_METRICS)))
    ax.set_xticklabels([labels[m] for m in RATIO_METRICS], fontsize=9)
    ax.set_ylabel("relative to direct routing, A or A6 (higher is better)")
    ax.set_title(
        "Median per metric relative to direct routing of the same IP version "
        "(latency: A / mode); bars: min–max",
        fontsize=10,
    )
    ax.legend(fontsize=8)

    ax = axes[1]
    xs, ys, cs, names = [], [], [], []
    for k, (base, color) in enumerate((("E", "#1f77b4"), ("B", "#d62728"))):
        for j, metric in enumerate(SCALE_METRICS):
            xs.append(k * 2.5 + j)
            ys.append(res["scale_10k_over_1"][base].get(metric) or 0)
            cs.append(color)
            names.append(
                f"{'fwd' if base == 'E' else 'iptables'}\n{'TCP' if metric == 'tcp1' else 'conn/s'}"
            )
    ax.bar(xs, ys, 0.8, color=cs)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(xs)
    ax.set_xticklabels(names, fontsize=8)
    ax.set_title("10k mappings / 1 mapping")

    ax = axes[2]
    inst = res["install"]
    keys = [k for k, _ in INSTALL_METHODS if inst.get(k, {}).get("summary")]
    short = {
        "fwd_range": "fwdctl add\n(range)",
        "fwd_per_call": "fwdctl add\nper mapping",
        "iptables_restore": "iptables-\nrestore",
        "iptables_per_rule": "iptables -A\nper rule",
    }
    if keys:
        per = [inst[k]["summary"]["median"] / inst[k]["count"] * 1e6 for k in keys]
        ax.bar(
            range(len(keys)),
            per,
            0.7,
            color=["#1f77b4" if k.startswith("fwd") else "#d62728" for k in keys],
        )
        ax.set_yscale("log")
        ax.set_xticks(range(len(keys)))
        ax.set_xticklabels([f"{short[k]}\n({inst[k]['count']:,})" for k in keys], fontsize=8)
        ax.set_ylabel("µs per mapping (log)")
        ax.set_title("Install time per mapping")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def build(out_dir):
    res = collect(out_dir)
    res["targets"] = targets(res)
    with open(os.path.join(out_dir, "results.json"), "w", encoding="utf-8") as f:
        json.dump(res, f, indent=1, ensure_ascii=False)
    md = markdown(res)
    with open(os.path.join(out_dir, "table.md"), "w", encoding="utf-8") as f:
        f.write(md)
    chart(res, os.path.join(out_dir, "chart.png"))
    print(md)
    return 0


def line(path):
    m = RAW_NAME.match(os.path.basename(path))
    kind = m.group(3) if m else "?"
    vals, err = values_of(kind, load_json(path))
    if err:
        print(f"    {kind:5s} FAILED: {err[:200]}")
        return 0
    units = {key: unit for key, _, unit, _ in METRICS}
    shown = ", ".join(f"{k} {fmt_num(v)} {units.get(k, '')}" for k, v in vals.items())
    print(f"    {kind:5s} {shown}")
    return 0


def main(argv):
    if len(argv) == 3 and argv[1] == "build":
        return build(argv[2])
    if len(argv) == 3 and argv[1] == "line":
        return line(argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
