"""Files/s of ``shizi batch`` with 1 and with N worker processes, in one run (their ratio is the
number to compare; machines are noisy).

    .venv/bin/python bench/batch.py --pages bench/out/val_doc --files 200 --workers 2 [--ray]

``--pages``: a folder of page images (e.g. ``bench/make_synth.py`` output); its images are used in
turn until there are ``--files`` inputs (links in a temporary folder). Installed default models.
``--ray`` adds a run on a local Ray with ``--workers`` actors (Ray's start-up included).
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
    ap.add_argument("--ray", action="store_true", help="also a run on a local Ray")
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
    runs = [(1, None), (args.workers, None)] + ([(args.workers, "local")] if args.ray else [])
    for w, ray in runs:
        t0 = time.perf_counter()
        s = run_batch(items, tmp / f"out{w}{ray or ''}.jsonl", workers=w, progress=False, ray=ray)
        dt = time.perf_counter() - t0
        rates[(w, ray)] = len(items) / dt
        print(f"{'ray actors' if ray else 'workers'} {w}: {len(items)} files in {dt:.1f} s = "
              f"{rates[(w, ray)]:.2f} files/s ({s.read} read, {s.failed} failed; start-up included)",
              flush=True)
    print(f"ratio {args.workers} workers / 1: {rates[(args.workers, None)] / rates[(1, None)]:.2f}x")
    if args.ray:
        print(f"ratio Ray with {args.workers} actors / 1 worker: "
              f"{rates[(args.workers, 'local')] / rates[(1, None)]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
