"""Choosing OrientConfig.min_confidence on synthetic pages only: for each threshold, the share of
turned pages (documents, receipts, screens, vertical pages, stream ``--seed``, each turned by 0, 90,
180 and 270 degrees) that come out right, and how many upright scene and receipt pages (a kind the
classifier was not trained on, and one it was) are wrongly turned.

    .venv/bin/python bench/orient_settings.py [--model ori_page] [--pages 100] [--seed 9002]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from shizi.orientation import decide, load_orienter
from shizi.synth.pages import render_page
from shizi.train.orient import synth_page

THRESHOLDS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model")
    ap.add_argument("--pages", type=int, default=100)
    ap.add_argument("--seed", type=int, default=9002)
    ap.add_argument("--upright", type=int, default=60, help="upright scene and receipt pages each")
    args = ap.parse_args()
    ori = load_orienter(args.model)
    probs, labels, secs = [], [], []
    for i in range(args.pages):
        image, _ = synth_page(args.seed, i)
        for k in range(4):
            turned = np.ascontiguousarray(np.rot90(image, k))
            t0 = time.perf_counter()
            probs.append(ori.patch_probs(turned).mean(0))
            secs.append(time.perf_counter() - t0)
            labels.append(k)
    probs, labels = np.array(probs), np.array(labels)
    upright = {kind: np.array([ori.patch_probs(render_page(args.seed + 1, i, kind=kind).image).mean(0)
                               for i in range(args.upright)]) for kind in ("scene", "receipt")}
    report = {}
    for t in THRESHOLDS:
        pred = decide(probs, t)
        report[f"min_confidence={t}"] = {
            "turned_pages_right": round(float((pred == labels).mean()), 4),
            "wrong_turns": int(((pred != labels) & (pred != 0)).sum()),
            "left_unturned": int(((pred == 0) & (labels != 0)).sum()),
            **{f"upright_{k}_turned": int((decide(p, t) != 0).sum()) for k, p in upright.items()},
        }
    print(json.dumps({"pages": len(labels), "upright_pages_each": args.upright, "seed": args.seed,
                      "ms_per_page_median": round(1000 * float(np.median(secs)), 1), **report}, indent=1))


if __name__ == "__main__":
    main()
