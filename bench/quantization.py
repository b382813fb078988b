"""Float32 against int8 export of one recognizer checkpoint: CER, time per line and file size.

    .venv/bin/python bench/quantization.py                       # src/shizi/models/rec_crnn_lite, lines_zh
    .venv/bin/python bench/quantization.py --weights runs/x/weights.pt --repeats 5

Both folders are exported from the same weights (``shizi.train.export``, needs the ``train`` extra) and
scored with ``shizi.evaluate`` on one thread, the variants taking turns; time is the median per line,
best of ``--repeats`` rounds. ``--weights`` is a weights.pt or a model folder; a folder's weights are
read back from its ONNX file (``shizi.train.from_onnx``), so for the shipped int8 model the "fp32"
variant holds the dequantized int8 weights, not the float32 ones it was trained to.

``batching`` reads all lines of the set in one ``recognize`` call (as a page's lines are read): the
int8 network one crop per run (``RecConfig.dynamic_quant``, what shizi does: its activation scales
are taken over the whole batch) against batches of 16, with how many lines read differently.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from shizi.evaluate import evaluate
from shizi.reader import Reader
from shizi.train.export import export_recognizer

ROOT = Path(__file__).resolve().parents[1]
LINES = ROOT.parent / "shared" / "eval" / "lines_zh" / "labels.jsonl"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("labels", nargs="?", type=Path, default=LINES)
    ap.add_argument("--weights", type=Path, default=ROOT / "src" / "shizi" / "models" / "rec_crnn_lite",
                    help="a weights.pt, or a model folder (or its model.onnx) to read the weights from")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        weights = args.weights
        if weights.is_dir() or weights.suffix == ".onnx":
            import torch

            from shizi.train.from_onnx import to_weights

            weights = Path(tmp) / "weights.pt"
            torch.save(to_weights(args.weights), weights)
        folders = {}
        for variant, int8 in (("fp32", False), ("int8", True)):
            folders[variant] = Path(tmp) / variant
            export_recognizer(weights, folders[variant], name=f"bench_{variant}", int8=int8)
        readers = {v: Reader(detector=False, recognizer=str(f), threads=1) for v, f in folders.items()}
        out: dict[str, dict] = {}
        for _ in range(args.repeats):
            for v, reader in readers.items():
                r = evaluate(reader, args.labels)
                ms = r["seconds_median"] * 1000
                prev = out.get(v)
                out[v] = {
                    "cer": round(r["cer"], 4), "errors": r["errors"], "ref_chars": r["ref_chars"],
                    "ms_per_line": round(min(ms, prev["ms_per_line"]) if prev else ms, 2),
                    "mb": round((folders[v] / "model.onnx").stat().st_size / 1e6, 2),
                }
        out["int8_time_ratio"] = round(out["int8"]["ms_per_line"] / out["fp32"]["ms_per_line"], 3)
        out["batching"] = batching(readers["int8"].recognizer, args.labels, args.repeats)
    print(json.dumps(out, indent=1))


def batching(rec, labels: Path, repeats: int) -> dict:
    import time

    import cv2

    from shizi.evaluate import load_labels

    crops = [cv2.imread(d["path"], cv2.IMREAD_GRAYSCALE) for d in load_labels(labels)]
    variants = {"one_crop_per_run": rec.with_config(dynamic_quant=True),
                "batches_of_16": rec.with_config(dynamic_quant=False)}
    best: dict[str, float] = {}
    texts = {}
    for _ in range(repeats):
        for name, r in variants.items():
            t0 = time.perf_counter()
            texts[name] = [x.text for x in r.recognize(crops)]
            ms = (time.perf_counter() - t0) / len(crops) * 1000
            best[name] = min(ms, best.get(name, ms))
    return {**{f"{k}_ms_per_line": round(v, 2) for k, v in best.items()},
            "lines_read_differently": sum(a != b for a, b in zip(*texts.values(), strict=True))}


if __name__ == "__main__":
    main()
