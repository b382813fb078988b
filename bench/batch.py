"""Files/s of ``shizi batch`` with 1 and with N worker processes, in one run (their ratio is the
number to compare; machines are noisy).

    .venv/bin/python bench/batch.py --pages bench/out/val_doc --files 200 --workers 2

``--pages``: a folder of page images (e.g. ``bench/make_synth.py`` output); its images are used in
turn until there are ``--files`` inputs (links in a temporary folder). Installed default models.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from shizi.batch import INPUT_SUFFIXES, collect, run_batch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=Path, required=True)
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    images = sorted(p for p in args.pages.rglob("*") if p.suffix.lower() in INPUT_SUFFIXES)
    if not images:
        sys.exit(f"no images in {args.pages}")
    tmp = Path(tempfile.mkdtemp(prefix="shizi-batch-bench-"))
    inputs = tmp / "in"
    inputs.mkdir()
    for k in range(args.files):
        src = images[k % len(images)].resolve()
        (inputs / f"{k:05d}{src.suffix}").symlink_to(src)
    items = collect([str(inputs)])
    rates = {}
    for w in (1, args.workers):
        t0 = time.perf_counter()
        s = run_batch(items, tmp / f"out{w}.jsonl", workers=w, progress=False)
        dt = time.perf_counter() - t0
        rates[w] = len(items) / dt
        print(f"workers {w}: {len(items)} files in {dt:.1f} s = {rates[w]:.2f} files/s "
              f"({s.read} read, {s.failed} failed; worker start-up included)", flush=True)
    print(f"ratio {args.workers} workers / 1: {rates[args.workers] / rates[1]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
