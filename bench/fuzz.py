"""Long fuzz run: mutated PNG / JPEG / WebP / BMP / TIFF / PDF inputs through ``Reader.read`` and every
exporter (the CI test, tests/test_fuzz.py, runs 300 fixed cases of the same edits).

Counts results and input errors by kind, prints the peak RSS every ``--report-every`` cases, and lists
every case that raised anything other than an InputError (with the edits that reproduce it); exit 1
if there was one.

    .venv/bin/python bench/fuzz.py --cases 5000              # tiny test models (fast)
    .venv/bin/python bench/fuzz.py --cases 1000 --shipped    # the installed default models
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fuzzing import OPS, mutate, read_and_export, seeds  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    import numpy as np

    from shizi.reader import Reader

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-edits", type=int, default=4)
    ap.add_argument("--shipped", action="store_true", help="the installed default models, not the tiny ones")
    ap.add_argument("--report-every", type=int, default=500)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")  # Pillow warns about every corrupt tag

    if args.shipped:
        reader = Reader(orient=True, max_pixels=4_000_000, max_pages=8)
    else:
        from tiny_models import make_tiny_models

        det, rec = make_tiny_models(Path(tempfile.mkdtemp(prefix="shizi-fuzz-")))
        reader = Reader(detector=det, recognizer=rec, orient=False, max_pixels=4_000_000, max_pages=8)
    corpus = seeds()
    fmts = sorted(corpus)
    rng = np.random.default_rng(args.seed)
    outcomes: Counter[str] = Counter()
    failures: list[str] = []
    t0 = time.perf_counter()
    for k in range(1, args.cases + 1):
        fmt = fmts[rng.integers(len(fmts))]
        edits = [(OPS[rng.integers(len(OPS))], float(rng.random()), int(rng.integers(2**32)))
                 for _ in range(1 + rng.integers(args.max_edits))]
        try:
            outcomes[read_and_export(reader, mutate(corpus[fmt], edits))] += 1
        except Exception as e:  # noqa: BLE001 - the finding
            outcomes["FAILED"] += 1
            failures.append(f"{fmt} {edits}: {type(e).__name__}: {e}\n"
                            + "".join(traceback.format_exc(limit=-3)))
        if k % args.report_every == 0 or k == args.cases:
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"{k:>7} cases  {time.perf_counter() - t0:7.1f} s  peak RSS {rss:6.0f} MB  "
                  + "  ".join(f"{o} {n}" for o, n in sorted(outcomes.items())), flush=True)
    for f in failures[:20]:
        print("\n" + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
