"""Exact-match accuracy of the captcha reader on captchas it never saw, beside ddddocr.

    .venv/bin/python bench/captchas.py                          # shipped captcha_en, 1,000 + 200 captchas
    .venv/bin/python bench/captchas.py --rec runs/captcha/model --count 300 --other 100

Captchas come from :mod:`shizi.synth.captcha` on streams no training run uses (``--seed``, default
9201, for the ``captcha`` package's generator; ``--seed + 1`` for the second, different generator).
A reading counts when it equals the text ignoring case (the texts are digits and capitals; ddddocr
answers in either case); ``exact_0O`` also takes 0 and O for one another (the ``captcha`` package's
face draws both as an oval whose width its warp changes at random). ddddocr (PyPI, the engine people
use for captchas) runs beside shizi on the same images when it is installed. Time: milliseconds per
captcha, one thread, warm.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import time

import numpy as np
from PIL import Image

from shizi.reader import Reader
from shizi.synth.captcha import GENERATORS, captcha_text


def captchas(generator: str, seed: int, count: int) -> list[tuple[np.ndarray, str]]:
    out = []
    for i in range(count):
        rng = random.Random(seed * 1_000_003 + i)
        text = captcha_text(rng)
        out.append((GENERATORS[generator](text, rng), text))
    return out


def score(read, items: list[tuple[np.ndarray, str]]) -> dict:
    read(items[0][0])  # warm
    right, merged, times, wrong = 0, 0, [], []
    for img, text in items:
        t0 = time.perf_counter()
        got = read(img).upper()
        times.append(time.perf_counter() - t0)
        right += got == text
        merged += got.replace("O", "0") == text.replace("O", "0")
        if got != text and len(wrong) < 8:
            wrong.append(f"{text}->{got}")
    return {"exact": round(right / len(items), 4), "exact_0O": round(merged / len(items), 4),
            "right": right, "n": len(items),
            "ms": round(1000 * float(np.median(times)), 2), "examples_wrong": wrong}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rec", default="captcha_en")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--other", type=int, default=200)
    ap.add_argument("--seed", type=int, default=9201)
    args = ap.parse_args()
    reader = Reader(detector=False, recognizer=args.rec, threads=1, orient=False)

    def shizi_read(img: np.ndarray) -> str:
        return reader.read(img, mode="line").pages[0].text().strip()

    engines = {"shizi": shizi_read}
    try:
        import ddddocr

        ocr = ddddocr.DdddOcr(show_ad=False)

        def dddd_read(img: np.ndarray) -> str:
            buf = io.BytesIO()
            Image.fromarray(img).save(buf, format="PNG")
            return ocr.classification(buf.getvalue())

        engines["ddddocr"] = dddd_read
    except ImportError:
        print("ddddocr not installed (pip install ddddocr): shizi alone")
    sets = {"captcha": captchas("captcha", args.seed, args.count),
            "other generator": captchas("other", args.seed + 1, args.other)}
    report = {name: {e: score(fn, items) for e, fn in engines.items()} for name, items in sets.items()}
    print(json.dumps({"rec": args.rec, "seed": args.seed, **report}, indent=1))


if __name__ == "__main__":
    main()
