"""Size and CPU time per line of each recognizer architecture, on the shipped charset.

    .venv/bin/python bench/rec_arch_speed.py                 # lines_zh crops, one thread
    .venv/bin/python bench/rec_arch_speed.py --repeats 5

Every architecture of ``shizi.train.nets.recognition.ARCHS`` is built with freshly initialised weights
(time does not depend on the weights), exported to float32 ONNX (``shizi.train.export``; int8 export
checks its argmax against torch, which random weights do not pass) and timed on the line crops with
one onnxruntime thread, without the language model, the architectures taking turns; time is the
median per line, best of ``--repeats`` rounds. Needs the ``train`` extra. No accuracy is printed:
only ``crnn_lite`` is trained (its model card has its CER).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import torch

from shizi.evaluate import evaluate
from shizi.models import load_model
from shizi.reader import Reader
from shizi.train.export import export_recognizer
from shizi.train.nets.recognition import ARCHS, build

ROOT = Path(__file__).resolve().parents[1]
LINES = ROOT.parent / "shared" / "eval" / "lines_zh" / "labels.jsonl"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("labels", nargs="?", type=Path, default=LINES)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    charset = load_model("rec_crnn_lite", task="recognition").charset()
    torch.manual_seed(0)
    out: dict[str, dict] = {}
    readers = {}
    with tempfile.TemporaryDirectory() as tmp:
        for arch in ARCHS:
            net = build(arch, len(charset) + 1).eval()
            weights = Path(tmp) / f"{arch}.pt"
            torch.save({"arch": arch, "charset": charset, "width_stride": net.width_stride, "height": 32,
                        "step": 0, "model": net.state_dict()}, weights)
            folder = Path(tmp) / arch
            export_recognizer(weights, folder, name=f"bench_{arch}", int8=False)
            readers[arch] = Reader(detector=False, recognizer=str(folder), threads=1, lm=False)
            out[arch] = {"params_m": round(sum(p.numel() for p in net.parameters()) / 1e6, 2),
                         "width_stride": net.width_stride,
                         "fp32_mb": round((folder / "model.onnx").stat().st_size / 1e6, 1)}
        for _ in range(args.repeats):
            for arch, reader in readers.items():
                ms = evaluate(reader, args.labels)["seconds_median"] * 1000
                out[arch]["ms_per_line"] = round(min(ms, out[arch].get("ms_per_line", ms)), 2)
    lite = out["crnn_lite"]["ms_per_line"]
    for v in out.values():
        v["time_vs_lite"] = round(v["ms_per_line"] / lite, 2)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
