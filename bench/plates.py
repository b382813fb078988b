"""Exact-match accuracy of the licence-plate reader on synthetic plates it never saw.

    .venv/bin/python bench/plates.py                     # shipped plate_zh, 1,000 plates, 200 photos
    .venv/bin/python bench/plates.py --rec runs/plates/model --count 300 --photos 50

Plates come from :mod:`shizi.synth.plates` on a stream no training run uses (``--seed``, default 9301):
``crops`` reads each plate as the crop a user gives (``--mode line``); ``photos`` pastes plates of
stream ``--seed + 1`` into a plain 640 x 480 scene and reads them with ``--mode plate`` (the detector
finds the row of characters, the reader keeps readings that are plate numbers): a plate counts when
its number is among those read, a reading that is not on the photo counts as a false plate. Time:
milliseconds per crop / per photo (detection included), one thread, warm.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter

import numpy as np

from shizi.reader import Reader
from shizi.synth.plates import plate_text, render_plate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rec", default="plate_zh")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--photos", type=int, default=200)
    ap.add_argument("--seed", type=int, default=9301)
    args = ap.parse_args()
    reader = Reader(recognizer=args.rec, threads=1, orient=False)
    right, kinds, times, wrong = 0, Counter(), [], []
    for i in range(args.count):
        rng = random.Random(args.seed * 1_000_003 + i)
        text, kind = plate_text(rng)
        img = render_plate(text, kind, rng)
        t0 = time.perf_counter()
        got = reader.read(img, mode="line").pages[0].text().strip()
        times.append(time.perf_counter() - t0)
        kinds[kind, got == text] += 1
        right += got == text
        if got != text and len(wrong) < 10:
            wrong.append(f"{text}->{got}")
    by_kind = {k: round(kinds[k, True] / max(1, kinds[k, True] + kinds[k, False]), 4)
               for k in ("blue", "yellow", "green")}
    found, false, ptimes = 0, 0, []
    for i in range(args.photos):
        rng = random.Random((args.seed + 1) * 1_000_003 + i)
        text, kind = plate_text(rng)
        plate = render_plate(text, kind, rng)
        photo = np.full((480, 640, 3), 0, np.uint8)
        photo[:] = [rng.randint(30, 220) for _ in range(3)]
        h, w = min(plate.shape[0], 440), min(plate.shape[1], 600)
        y, x = rng.randint(0, 480 - h), rng.randint(0, 640 - w)
        photo[y : y + h, x : x + w] = plate[:h, :w]
        t0 = time.perf_counter()
        texts = [b.lines[0].text for b in reader.read(photo, mode="plate").pages[0].blocks]
        ptimes.append(time.perf_counter() - t0)
        found += text in texts
        false += sum(t != text for t in texts)
    print(json.dumps({
        "rec": args.rec, "seed": args.seed,
        "crops": {"exact": round(right / args.count, 4), "right": right, "n": args.count, "by_kind": by_kind,
                  "ms": round(1000 * float(np.median(times)), 2), "examples_wrong": wrong},
        "photos": {"found": round(found / max(1, args.photos), 4), "n": args.photos, "false_plates": false,
                   "ms": round(1000 * float(np.median(ptimes)) if ptimes else 0.0, 1)},
    }, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
