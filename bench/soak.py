"""Soak / load test of ``shizi serve``: a fixed number of requests over loopback.

Starts its own server process (``python -m shizi.cli serve`` on 127.0.0.1, a free port), warms it up,
measures the unloaded latency (``--warmup`` requests one at a time), then sends ``--requests`` POST
/v1/ocr requests (default 2,000) from ``--concurrency`` client threads with keep-alive connections,
optionally while ``--slow-clients`` uploads trickle in (each sends its Content-Length, then a few
bytes every half second, and reconnects when the server gives up on it). Prints the server's RSS and
the status counts every ``--report-every`` requests, then requests/s, p50/p95/max latency (and p50
over the unloaded p50), the answers by status and the server's resident memory (VmRSS).

    .venv/bin/python bench/soak.py                       # installed default models, bundled sample
    .venv/bin/python bench/soak.py --tiny                # tiny test models (no trained models needed)
    .venv/bin/python bench/soak.py --requests 10000 --concurrency 8 --image line.png
    .venv/bin/python bench/soak.py --requests 500 --concurrency 1 --slow-clients 20

Loopback only: there is no option to target another host. Linux only (reads /proc for RSS).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "src" / "shizi" / "samples" / "sample.png"
HOST = "127.0.0.1"


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` (MB) from /proc, children included (none expected)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(args, port: int, log_path: Path) -> subprocess.Popen:
    cmd = [
        sys.executable, "-m", "shizi.cli", "serve", "--host", HOST, "--port", str(port),
        "--workers", str(args.workers), "--queue", str(max(args.queue, args.concurrency)),
        "--log-level", "warning",
    ]  # fmt: skip
    if args.det:
        cmd += ["--det", args.det]
    if args.rec:
        cmd += ["--rec", args.rec]
    log = open(log_path, "wb")  # noqa: SIM115 - lives as long as the server
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)


def wait_ready(proc: subprocess.Popen, port: int, log_path: Path, timeout: float = 120.0) -> dict:
    deadline = time.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=2) as r:
                return json.load(r)
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            sys.exit("soak: the server did not start:\n" + log_path.read_text(errors="replace"))
        time.sleep(0.2)


class Client:
    """One keep-alive connection; reconnects after a failure."""

    def __init__(self, port: int, path: str, body: bytes, content_type: str) -> None:
        self.port, self.path, self.body, self.ctype = port, path, body, content_type
        self.conn: http.client.HTTPConnection | None = None

    def post(self) -> tuple[int, float, bytes]:
        t0 = time.perf_counter()
        data = b""
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=300)
            self.conn.request("POST", self.path, body=self.body, headers={"Content-Type": self.ctype})
            resp = self.conn.getresponse()
            data = resp.read()
            status = resp.status
            if resp.getheader("connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
        except (OSError, http.client.HTTPException):
            status = 0  # connection error
            if self.conn is not None:
                self.conn.close()
            self.conn = None
        return status, time.perf_counter() - t0, data


def slow_client(port: int, stop: threading.Event) -> None:
    """Announce a 1 MB body, then send 10 bytes every 0.5 s until ``stop``; reconnect when cut off."""
    while not stop.is_set():
        try:
            with socket.create_connection((HOST, port), timeout=5) as s:
                s.sendall(b"POST /v1/ocr HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                          b"Content-Length: 1000000\r\n\r\n")
                while not stop.wait(0.5):
                    s.sendall(b"x" * 10)
        except OSError:
            stop.wait(0.2)


def multipart(data: bytes, name: str) -> tuple[bytes, str]:
    boundary = "shizi-soak-boundary-7d1f"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def percentile(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    k = min(len(s) - 1, max(0, round(q / 100.0 * (len(s) - 1))))
    return s[k]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=2000, help="requests to send (default: 2000)")
    ap.add_argument("--concurrency", type=int, default=4, help="client threads (default: 4)")
    ap.add_argument("--workers", type=int, default=2, help="server inference threads (default: 2)")
    ap.add_argument("--queue", type=int, default=8, help="server queue (at least --concurrency)")
    ap.add_argument("--warmup", type=int, default=10, help="untimed requests first (default: 10)")
    ap.add_argument("--image", type=Path, default=SAMPLE, help="input file (default: the bundled sample)")
    ap.add_argument("--format", default="json", choices=("json", "text", "hocr", "pdf"))
    ap.add_argument("--multipart", action="store_true", help="multipart upload instead of a raw body")
    ap.add_argument("--det", help="detector name or folder (default: installed default)")
    ap.add_argument("--rec", help="recognizer name or folder (default: installed default)")
    ap.add_argument("--tiny", action="store_true", help="use the tiny test models (tests/tiny_models.py)")
    ap.add_argument("--json", type=Path, help="also write the report as JSON here")
    ap.add_argument("--report-every", type=int, default=200, help="print RSS and statuses every N requests")
    ap.add_argument("--slow-clients", type=int, default=0, help="trickling uploads held open during the run")
    args = ap.parse_args(argv)
    if not (1 <= args.requests <= 100_000 and 1 <= args.concurrency <= 64 and args.warmup >= 0):
        ap.error("--requests must be 1..100000 and --concurrency 1..64")

    tmp = Path(tempfile.mkdtemp(prefix="shizi-soak-"))
    if args.tiny:
        sys.path.insert(0, str(ROOT / "tests"))
        from tiny_models import make_tiny_models

        det, rec = make_tiny_models(tmp / "models")
        args.det, args.rec = args.det or str(det), args.rec or str(rec)

    data = args.image.read_bytes()
    body, ctype = multipart(data, args.image.name) if args.multipart else (data, "application/octet-stream")
    path = f"/v1/ocr?format={args.format}&filename={urllib.request.quote(args.image.name)}"

    port = free_port()
    log_path = tmp / "serve.log"
    proc = start_server(args, port, log_path)
    peak = [0.0]
    stop = threading.Event()
    try:
        health = wait_ready(proc, port, log_path)
        rss_start = rss_mb(proc.pid)
        warm = Client(port, path, body, ctype)
        status, _, reference = warm.post()  # every answer must equal this one (not checked for PDF)
        if status != 200:
            sys.exit(f"soak: first request failed ({status}: {reference[:300]!r}); see {log_path}")
        unloaded = [warm.post()[1] for _ in range(max(1, args.warmup - 1))]
        rss_before = rss_mb(proc.pid)
        slow = [threading.Thread(target=slow_client, args=(port, stop), daemon=True)
                for _ in range(args.slow_clients)]
        for t in slow:
            t.start()
        if slow:
            time.sleep(1.0)  # all connected and sending before the timed run

        def monitor():
            while not stop.is_set():
                try:
                    peak[0] = max(peak[0], rss_mb(proc.pid))
                except OSError:
                    return
                stop.wait(0.1)

        mon = threading.Thread(target=monitor, daemon=True)
        mon.start()

        lock = threading.Lock()
        counter = [0]
        latencies: list[float] = []
        statuses: Counter[int] = Counter()
        mismatches = [0]
        check = args.format != "pdf"

        def worker():
            client = Client(port, path, body, ctype)
            while True:
                with lock:
                    if counter[0] >= args.requests:
                        return
                    counter[0] += 1
                status, dt, answer = client.post()
                with lock:
                    statuses[status] += 1
                    if status == 200:
                        latencies.append(dt)
                        if check and answer != reference:
                            mismatches[0] += 1
                    done = sum(statuses.values())
                    if done % args.report_every == 0:
                        print(f"  {done:>7} requests  server RSS {rss_mb(proc.pid):7.1f} MB  statuses "
                              f"{dict(sorted(statuses.items()))}", flush=True)

        t0 = time.perf_counter()
        threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        stop.set()
        mon.join()
        rss_after = rss_mb(proc.pid)
        alive = proc.poll() is None
        health_after = json.loads(urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=5).read())
    finally:
        stop.set()
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    errors = sum(n for s, n in statuses.items() if s != 200)
    report = {
        "requests": args.requests,
        "concurrency": args.concurrency,
        "server_workers": args.workers,
        "input": f"{args.image.name} ({len(data):,} bytes)",
        "format": args.format,
        "models": health.get("models"),
        "wall_s": round(wall, 2),
        "requests_per_s": round(args.requests / wall, 2),
        "latency_ms": {
            "p50": round(percentile(latencies, 50) * 1000, 1),
            "p95": round(percentile(latencies, 95) * 1000, 1),
            "max": round(max(latencies) * 1000, 1) if latencies else None,
            "mean": round(statistics.fmean(latencies) * 1000, 1) if latencies else None,
            "unloaded_p50": round(percentile(unloaded, 50) * 1000, 1),
            "p50_over_unloaded": round(percentile(latencies, 50) / percentile(unloaded, 50), 2),
        },
        "slow_clients": args.slow_clients,
        "errors": errors,
        "answers_differing_from_the_first": mismatches[0] if check else None,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "server_rss_mb": {
            "started": round(rss_start, 1),
            "before": round(rss_before, 1),
            "after": round(rss_after, 1),
            "peak": round(max(peak[0], rss_after), 1),
        },
        "server_alive_after": alive and health_after.get("status") == "ok",
        "served": health_after.get("served"),
        "cpu_count": os.cpu_count(),
    }
    r, m, lat = report, report["server_rss_mb"], report["latency_ms"]
    print(f"shizi serve soak: {r['requests']} requests, concurrency {r['concurrency']}, "
          f"{r['server_workers']} server workers, input {r['input']}, format {r['format']}")  # fmt: skip
    print(f"  models      {r['models']}")
    print(f"  throughput  {r['requests_per_s']:.2f} req/s  ({r['wall_s']:.1f} s)")
    print(f"  latency     p50 {lat['p50']} ms   p95 {lat['p95']} ms   max {lat['max']} ms   "
          f"(unloaded p50 {lat['unloaded_p50']} ms: {lat['p50_over_unloaded']}x; "
          f"{r['slow_clients']} slow clients)")
    print(f"  errors      {r['errors']}   statuses {r['statuses']}   "
          f"answers differing from the first: {r['answers_differing_from_the_first']}")  # fmt: skip
    print(f"  server RSS  before {m['before']} MB   after {m['after']} MB   peak {m['peak']} MB "
          f"(at start, before warm-up: {m['started']} MB)")  # fmt: skip
    print(f"  server alive after the run: {r['server_alive_after']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    ok = errors == 0 and report["server_alive_after"] and not report["answers_differing_from_the_first"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
