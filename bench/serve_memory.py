"""Memory of ``shizi serve`` with threads against processes, measured in one run.

Starts the server twice on loopback — ``--workers N`` threads in one process, then ``--processes N
--workers 1`` (uvicorn's process manager) — sends the same ``--requests`` requests from N clients to
each, and prints the process tree's RSS and PSS (proportional set size: shared pages split between
the processes that map them, from /proc/PID/smaps_rollup) and requests/s. Linux only.

    .venv/bin/python bench/serve_memory.py --n 2 --requests 200 --image page.png
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from soak import HOST, SAMPLE, Client, free_port  # noqa: E402


def tree(pid: int) -> list[int]:
    out = [pid]
    try:
        for t in Path(f"/proc/{pid}/task").iterdir():
            kids = (t / "children").read_text().split()
            for k in kids:
                out += tree(int(k))
    except OSError:
        pass
    return out


def memory_mb(pid: int) -> tuple[float, float]:
    rss = pss = 0.0
    for p in tree(pid):
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1]) / 1024
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1]) / 1024
        except OSError:
            pass
    return rss, pss


def run(label: str, serve_args: list[str], n: int, requests: int, body: bytes) -> dict:
    port = free_port()
    cmd = [sys.executable, "-m", "shizi.cli", "serve", "--host", HOST, "--port", str(port),
           "--log-level", "warning", *serve_args]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        path = "/v1/ocr?format=text"
        deadline = time.time() + 120
        while True:  # ready once every process answers: a request per process
            status, _, _ = Client(port, path, body, "application/octet-stream").post()
            if status == 200:
                break
            if proc.poll() is not None or time.time() > deadline:
                sys.exit(f"{label}: the server did not start")
            time.sleep(0.5)
        left = [requests]
        lock = threading.Lock()

        def client():
            c = Client(port, path, body, "application/octet-stream")
            while True:
                with lock:
                    if left[0] <= 0:
                        return
                    left[0] -= 1
                c.post()

        t0 = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        rss, pss = memory_mb(proc.pid)
        return {"label": label, "processes": len(tree(proc.pid)), "rss_mb": rss, "pss_mb": pss,
                "req_s": requests / wall}
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2, help="threads / processes (default: 2)")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--image", type=Path, default=SAMPLE)
    args = ap.parse_args(argv)
    body = args.image.read_bytes()
    rows = [run(f"{args.n} threads, 1 process", ["--workers", str(args.n)], args.n, args.requests, body),
            run(f"{args.n} processes, 1 thread each", ["--processes", str(args.n), "--workers", "1"],
                args.n, args.requests, body)]
    print(f"{'layout':<30} {'procs':>5} {'RSS MB':>8} {'PSS MB':>8} {'req/s':>7}")
    for r in rows:
        print(f"{r['label']:<30} {r['processes']:>5} {r['rss_mb']:>8.0f} {r['pss_mb']:>8.0f} "
              f"{r['req_s']:>7.2f}")
    print(f"PSS processes / threads: {rows[1]['pss_mb'] / rows[0]['pss_mb']:.2f}x; "
          f"req/s processes / threads: {rows[1]['req_s'] / rows[0]['req_s']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
