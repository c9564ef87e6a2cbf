#!/usr/bin/env python3
"""Collector cost: Tyto's built-in host and GPU collectors at 1 s against node_exporter at 1 s.

Three processes run side by side over the same window, so the machine's load falls on all of
them alike:
  collect   `tyto serve` with collectors.host and collectors.gpu every 1 s; the gpu collector opens
            the fake libnvidia-ml.so.1 (src/collect/gpu/testdata/fake_nvml.cc), which reads its
            devices from the file in TYTO_FAKE_NVML_SCRIPT (default: 8 H100s, fake_nvml_8xh100.txt)
  idle      `tyto serve` with both collectors disabled: the server's own cost with nothing to do
  node      node_exporter (default collectors), scraped by this script once per second, with the
            headers a Prometheus scrape sends (gzip), so it renders and compresses every page
After a warm-up the script reads, at the start and the end of the measured window: CPU seconds
(utime + stime) of each process from /proc/PID/stat, and of the collect process's "tyto-collect"
thread both from /proc/PID/task/TID/stat and, exact to the nanosecond, from .../schedstat; each
second it reads VmRSS, and at the end VmHWM, from /proc/PID/status. Tyto's /metrics is read just before the first CPU reading and just after the
last, so those requests are not counted. The collect thread's CPU is the collectors' whole cost
in Tyto: reading /proc, /sys and NVML, and appending the rounds to the head and the WAL (the
WAL's fsync runs on the head's sync thread, counted in the process but not in the thread).

Builds nothing; everything listens on 127.0.0.1; every loop is bounded; it stops what it started.

  bench/collector_cost.py --tyto build-cost/apps/tyto/tyto \\
      --fake-nvml build-cost/src/collect/fake_nvml/libnvidia-ml.so.1 --seconds 60
"""
import argparse, gzip, json, os, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, time, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
CLK_TCK = os.sysconf("SC_CLK_TCK")
# What Prometheus 2.x sends with every scrape.
SCRAPE_HEADERS = {
    "Accept": "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
              "text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
    "Accept-Encoding": "gzip",
    "X-Prometheus-Scrape-Timeout-Seconds": "1",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stat_cpu_seconds(path):
    with open(path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def schedstat_seconds(path):
    """Time on a CPU, exact to the nanosecond (the first field of /proc/.../schedstat)."""
    with open(path) as f:
        return int(f.read().split()[0]) / 1e9


def find_thread(pid, comm):
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                if f.read().strip() == comm:
                    return tid
        except OSError:
            pass
    return None


def memory_kib(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1])
    return out


def get(url, headers=None, timeout=5):
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        body = r.read()
        if r.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
    return body.decode()


def wait_ready(url, proc, seconds=30):
    for _ in range(int(seconds * 10)):
        if proc.poll() is not None:
            sys.exit(f"{url}: the process exited with {proc.returncode} before answering")
        try:
            get(url, timeout=1)
            return
        except Exception:
            time.sleep(0.1)
    sys.exit(f"{url}: not ready after {seconds} s")


def samples(text, prefix=""):
    """Lines of a Prometheus text page that are samples (not comments), of names with `prefix`."""
    return sum(1 for line in text.splitlines() if line and not line.startswith("#") and line.startswith(prefix))


def metric(text, name, labels):
    m = re.search(r"^" + re.escape(name + "{" + labels + "}") + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def start_tyto(tyto, work, name, collectors, env):
    port = free_port()
    cfg = os.path.join(work, f"{name}.yml")
    with open(cfg, "w") as f:
        f.write("collectors:\n" + collectors)
    log = open(os.path.join(work, f"{name}.log"), "w")
    proc = subprocess.Popen([tyto, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir",
                             os.path.join(work, f"{name}-data"), "--config", cfg],
                            stdout=log, stderr=log, env=env)
    return proc, port


def stop(proc):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tyto", default="build/apps/tyto/tyto")
    ap.add_argument("--fake-nvml", default="build/src/collect/fake_nvml/libnvidia-ml.so.1")
    ap.add_argument("--script", default=os.path.join(HERE, "fake_nvml_8xh100.txt"), help="the fake's GPUs")
    ap.add_argument("--node-exporter", default="/usr/bin/prometheus-node-exporter")
    ap.add_argument("--collectors", default="host,gpu", help="the collect process's collectors: host,gpu, host or gpu")
    ap.add_argument("--warmup", type=int, default=10, help="seconds before measuring")
    ap.add_argument("--seconds", type=int, default=60, help="seconds measured")
    ap.add_argument("--no-gzip", action="store_true", help="scrape node_exporter without Accept-Encoding: gzip")
    ap.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    a = ap.parse_args()
    enabled = set(a.collectors.split(","))
    if not enabled or not enabled <= {"host", "gpu"}:
        sys.exit("--collectors: host,gpu, host or gpu")
    for path in (a.tyto, a.fake_nvml, a.script, a.node_exporter):
        if not os.path.exists(path):
            sys.exit(f"not found: {path}")

    headers = dict(SCRAPE_HEADERS)
    if a.no_gzip:
        del headers["Accept-Encoding"]
    work = tempfile.mkdtemp(prefix="tyto-collector-cost-")
    env = dict(os.environ, TYTO_FAKE_NVML_SCRIPT=os.path.abspath(a.script))
    procs = {}
    load_before = os.getloadavg()
    try:
        procs["collect"], collect_port = start_tyto(
            a.tyto, work, "collect",
            ("  host:\n    interval: 1s\n" if "host" in enabled else "  host:\n    enabled: false\n") +
            (f"  gpu:\n    interval: 1s\n    library_path: {os.path.abspath(a.fake_nvml)}\n" if "gpu" in enabled
             else "  gpu:\n    enabled: false\n"), env)
        procs["idle"], idle_port = start_tyto(
            a.tyto, work, "idle", "  host:\n    enabled: false\n  gpu:\n    enabled: false\n", env)
        node_port = free_port()
        node_log = open(os.path.join(work, "node_exporter.log"), "w")
        procs["node"] = subprocess.Popen([a.node_exporter, f"--web.listen-address=127.0.0.1:{node_port}"],
                                         stdout=node_log, stderr=node_log)
        collect_url = f"http://127.0.0.1:{collect_port}"
        idle_url = f"http://127.0.0.1:{idle_port}"
        node_url = f"http://127.0.0.1:{node_port}/metrics"
        wait_ready(collect_url + "/-/ready", procs["collect"])
        wait_ready(idle_url + "/-/ready", procs["idle"])
        wait_ready(node_url, procs["node"])
        tid = None
        for _ in range(100):
            tid = find_thread(procs["collect"].pid, "tyto-collect")
            if tid:
                break
            time.sleep(0.1)
        if tid is None:
            sys.exit("no tyto-collect thread in the collect process")
        thread_dir = f"/proc/{procs['collect'].pid}/task/{tid}"

        def cpu():
            out = {name: stat_cpu_seconds(f"/proc/{p.pid}/stat") for name, p in procs.items()}
            out["thread"] = stat_cpu_seconds(thread_dir + "/stat")
            out["thread_exact"] = schedstat_seconds(thread_dir + "/schedstat")
            return out

        rss = {name: [] for name in procs}
        scrape_ms, node_series, node_host_series, scrape_errors = [], 0, 0, 0
        start = time.monotonic()
        cpu0 = cpu1 = metrics0 = metrics1 = None
        t0 = t1 = 0.0
        for tick in range(a.warmup + a.seconds + 1):
            time.sleep(max(0.0, start + tick - time.monotonic()))
            if tick == a.warmup:
                metrics0 = get(collect_url + "/metrics")
                cpu0, t0 = cpu(), time.monotonic()
            if tick == a.warmup + a.seconds:
                cpu1, t1 = cpu(), time.monotonic()
                metrics1 = get(collect_url + "/metrics")
                break
            for name, p in procs.items():
                if p.poll() is not None:
                    sys.exit(f"{name} exited with {p.returncode}; logs in {work}")
            s = time.monotonic()
            try:
                page = get(node_url, headers)
                if tick >= a.warmup:
                    scrape_ms.append((time.monotonic() - s) * 1000)
                node_series = samples(page)
                # The host's series, without node_exporter's own (node_scrape_*, go_*, process_*).
                node_host_series = samples(page, "node_") - samples(page, "node_scrape_")
            except Exception:
                scrape_errors += 1
            if tick >= a.warmup:
                for name, p in procs.items():
                    rss[name].append(memory_kib(p.pid)["VmRSS"])
        hwm = {name: memory_kib(p.pid)["VmHWM"] for name, p in procs.items()}
        load_after = os.getloadavg()
        wall = t1 - t0

        def rounds(text, c):
            return (metric(text, "tyto_collector_rounds_total", f'collector="{c}"') or 0)

        per = {}
        for c in ("host", "gpu"):
            per[c] = dict(
                samples=metric(metrics1, "tyto_collector_samples", f'collector="{c}"') or 0,
                rounds=rounds(metrics1, c) - rounds(metrics0, c),
                last_round_ms=1000 * (metric(metrics1, "tyto_collector_duration_seconds", f'collector="{c}"') or 0),
                failures=metric(metrics1, "tyto_collector_failures_total", f'collector="{c}"'))
        if "gpu" in enabled and not per["gpu"]["samples"]:
            sys.exit(f"the gpu collector sent no samples: the fake library did not load; logs in {work}")
        used = {k: cpu1[k] - cpu0[k] for k in cpu0}
        pct = {k: 100 * v / wall for k, v in used.items()}
        tyto_samples = per["host"]["samples"] + per["gpu"]["samples"]
        kib_to_mb = 1024 / 1e6
        r = dict(
            measured_s=round(wall, 1), load_before=[round(x, 2) for x in load_before],
            load_after=[round(x, 2) for x in load_after], cpus=os.cpu_count(),
            host=per["host"], gpu=per["gpu"], node_series=node_series, node_host_series=node_host_series,
            node_scrapes=len(scrape_ms),
            node_scrape_errors=scrape_errors,
            node_scrape_ms_median=round(statistics.median(scrape_ms), 1) if scrape_ms else None,
            cpu_seconds={k: round(v, 3) for k, v in used.items()}, core_percent={k: round(v, 3) for k, v in pct.items()},
            rss_mb_start={k: round(v[0] * kib_to_mb, 1) for k, v in rss.items()},
            rss_mb_final={k: round(v[-1] * kib_to_mb, 1) for k, v in rss.items()},
            rss_mb_max={k: round(max(v) * kib_to_mb, 1) for k, v in rss.items()},
            hwm_mb={k: round(v * kib_to_mb, 1) for k, v in hwm.items()})
    finally:
        for p in procs.values():
            stop(p)
        shutil.rmtree(work, ignore_errors=True)

    rounds = max(per["host"]["rounds"], per["gpu"]["rounds"], 1)
    with open(a.script) as f:
        gpus = re.search(r"^- device_count (\d+)", f.read(), re.M)
    what = " + ".join(sorted(enabled, reverse=True)).replace("gpu", f"{gpus.group(1) if gpus else '?'} fake GPUs")
    print(f"# {r['measured_s']} s measured after {a.warmup} s warm-up, all three processes at once; "
          f"{r['cpus']} CPUs, load average {r['load_before'][0]} before, {r['load_after'][0]} after "
          f"(1/5/15 min after: {' '.join(map(str, r['load_after']))})")
    print(f"# rounds in the window: host {per['host']['rounds']:.0f}, gpu {per['gpu']['rounds']:.0f}; "
          f"node_exporter scrapes {r['node_scrapes']} (errors {scrape_errors}), median {r['node_scrape_ms_median']} ms; "
          f"last round: host {per['host']['last_round_ms']:.2f} ms, gpu {per['gpu']['last_round_ms']:.2f} ms (wall)")
    print()
    def mem(k):
        return f"{r['rss_mb_start'][k]} → {r['rss_mb_final'][k]} | {r['hwm_mb'][k]}"
    print("| | CPU s | % of one core | CPU ms per round | samples per round | RSS MB, window start → end | peak RSS MB (VmHWM) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(f"| tyto collect thread ({what}) | {used['thread_exact']:.3f} | {pct['thread_exact']:.2f} | "
          f"{1000 * used['thread_exact'] / rounds:.2f} | {tyto_samples:.0f} "
          f"(host {per['host']['samples']:.0f}, gpu {per['gpu']['samples']:.0f}) | | |")
    print(f"| tyto process, collectors on | {used['collect']:.2f} | {pct['collect']:.2f} | | | {mem('collect')} |")
    print(f"| tyto process, collectors off | {used['idle']:.2f} | {pct['idle']:.2f} | | | {mem('idle')} |")
    print(f"| node_exporter 1.5, scraped every 1 s | {used['node']:.2f} | {pct['node']:.2f} | "
          f"{1000 * used['node'] / max(r['node_scrapes'], 1):.2f} | {node_series} (node_* host series "
          f"{node_host_series}) | {mem('node')} |")
    print()
    print(f"collect thread: {used['thread_exact']:.3f} s from schedstat (exact, in the table), "
          f"{used['thread']:.2f} s from utime+stime (counted in {1000 // CLK_TCK} ms ticks, as the processes are)")
    print()

    def ratio(x, y):
        return f"{x / y:.2f}" if y else "n/a"
    print(f"tyto collect thread / node_exporter CPU: {ratio(used['thread_exact'], used['node'])}; "
          f"tyto process (on - off) / node_exporter CPU: {ratio(used['collect'] - used['idle'], used['node'])}; "
          f"tyto process RSS / node_exporter RSS (final): {ratio(r['rss_mb_final']['collect'], r['rss_mb_final']['node'])}; "
          f"CPU per sample, tyto thread / node_exporter (its node_* host series): "
          f"{ratio(used['thread_exact'] / max(tyto_samples, 1), used['node'] / max(node_host_series, 1))}")
    if a.json:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
