#!/usr/bin/env python3
"""Scrape load: Tyto scraping T targets of S series each at a fixed interval; reports Tyto's CPU.

A separate process (this script) serves one pre-rendered Prometheus text page of S series for
every request, so its CPU is not counted. Tyto gets a scrape config of T targets (static groups
on the one address, told apart by an `id` label and a `?id=` parameter through relabelling), runs
for a warm-up and then a measured window, and the script reads Tyto's user+system CPU from
/proc/PID/stat over that window. Everything listens on 127.0.0.1; all loops are bounded in time.

  bench/scrape_load.py --tyto build/apps/tyto/tyto --targets 1000 --series 1000 --interval 15 --measure 60
"""
import argparse, http.server, json, os, random, shutil, signal, socket, socketserver, subprocess, sys, tempfile, threading, time, urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def page(series, seed=1):
    rng = random.Random(seed)
    lines = ["# HELP load_metric A metric of the load test.", "# TYPE load_metric gauge"]
    for i in range(series):
        lines.append('load_metric{shard="%d",kind="k%d",zone="z%d"} %.3f' % (i, i % 10, i % 4, rng.random() * 100))
    return ("\n".join(lines) + "\n").encode()


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tyto", default="build/apps/tyto/tyto")
    ap.add_argument("--targets", type=int, default=1000)
    ap.add_argument("--series", type=int, default=1000)
    ap.add_argument("--interval", type=int, default=15, help="seconds")
    ap.add_argument("--warmup", type=int, default=30, help="seconds before measuring")
    ap.add_argument("--measure", type=int, default=60, help="seconds measured")
    a = ap.parse_args()

    body = page(a.series)
    served = [0]

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def do_GET(self):
            served[0] += 1
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *args):
            pass

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        request_queue_size = 1024

    fixture_port = free_port()
    fixture = Server(("127.0.0.1", fixture_port), Handler)
    threading.Thread(target=fixture.serve_forever, daemon=True).start()

    work = tempfile.mkdtemp(prefix="tyto-scrape-load-")
    tyto_port = free_port()
    groups = "".join(
        f"      - targets: ['127.0.0.1:{fixture_port}']\n        labels: {{id: '{i}'}}\n" for i in range(a.targets))
    cfg = (f"global:\n  scrape_interval: {a.interval}s\n  scrape_timeout: {min(a.interval, 10)}s\n"
           "scrape_configs:\n  - job_name: load\n    static_configs:\n" + groups +
           "    relabel_configs:\n"
           "      - source_labels: [id]\n        target_label: __param_id\n"
           "      - source_labels: [id]\n        target_label: instance\n        replacement: target-$1\n")
    with open(os.path.join(work, "tyto.yml"), "w") as f:
        f.write(cfg)
    log = open(os.path.join(work, "tyto.log"), "w")
    proc = subprocess.Popen([a.tyto, "serve", "--config", os.path.join(work, "tyto.yml"), "--data-dir",
                             os.path.join(work, "data"), "--listen", f"127.0.0.1:{tyto_port}"], stdout=log, stderr=log)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{tyto_port}/-/ready", timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        time.sleep(a.warmup)
        c0, s0, t0 = cpu_seconds(proc.pid), served[0], time.monotonic()
        time.sleep(a.measure)
        c1, s1, t1 = cpu_seconds(proc.pid), served[0], time.monotonic()
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{tyto_port}/api/v1/targets"))["data"]["activeTargets"]
        up = sum(1 for t in targets if t["health"] == "up")
        cores = (c1 - c0) / (t1 - t0)
        result = dict(targets=a.targets, series_per_target=a.series, interval_s=a.interval,
                      measured_s=round(t1 - t0, 1), scrapes=s1 - s0,
                      samples_per_s=round((s1 - s0) * a.series / (t1 - t0)), targets_up=up,
                      tyto_cpu_seconds=round(c1 - c0, 2), tyto_cores=round(cores, 4))
        print(json.dumps(result))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        fixture.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
