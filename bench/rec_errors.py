"""Where a recognizer errs on a line set: CER per variant and the most frequent edits.

    .venv/bin/python bench/rec_errors.py                          # default recognizer, shared lines_zh
    .venv/bin/python bench/rec_errors.py --rec runs/rec_x --top 40
    .venv/bin/python bench/rec_errors.py --ink-margin none     # whole crops, not trimmed to their ink
    .venv/bin/python bench/rec_errors.py --width-scale 1.25    # crops read wider: more steps per glyph
    .venv/bin/python bench/rec_errors.py LABELS --set punct_width=true   # any RecConfig field

Scoring is shizi.metrics (NFKC, whitespace removed, summed over the set); an edit is a substitution
``ref -> hyp``, a deletion ``ref -> ∅`` or an insertion ``∅ -> hyp`` from rapidfuzz's edit operations.
NFKC makes ，and , (and ：:, （( ...) one character, so ``width_edits`` counts apart, on the raw text
(whitespace removed), the punctuation read at the wrong width: , . : ; ? ! ( ) against ，。：；？！（）.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from shizi import metrics as M
from shizi.reader import Reader

LINES = Path(__file__).resolve().parents[2] / "shared" / "eval" / "lines_zh" / "labels.jsonl"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("labels", nargs="?", type=Path, default=LINES)
    ap.add_argument("--rec", help="recognition model name or folder (default: the installed default)")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--ink-margin", help="override the recognizer's ink_margin; 'none' reads whole crops")
    ap.add_argument("--width-scale", type=float, help="override the recognizer's width_scale")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a RecConfig field (true/false, numbers, text)")
    args = ap.parse_args()
    reader = Reader(detector=False, recognizer=args.rec, threads=1)
    changes = {}
    if args.ink_margin is not None:
        changes["ink_margin"] = None if args.ink_margin == "none" else float(args.ink_margin)
    if args.width_scale is not None:
        changes["width_scale"] = args.width_scale
    for kv in args.set:
        k, v = kv.split("=", 1)
        changes[k] = {"true": True, "false": False}.get(v.lower(), v)
        if isinstance(changes[k], str):
            try:
                changes[k] = float(v) if "." in v else int(v)
            except ValueError:
                pass
    reader.recognizer = reader.recognizer.with_config(**changes)
    width_pairs = {frozenset(p) for p in zip(",.:;?!()", "，。：；？！（）", strict=True)}
    width_edits = 0
    pairs: dict[str, list[tuple[str, str]]] = {}
    edits: Counter = Counter()
    for line in args.labels.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        doc = reader.read(args.labels.parent / d["image"], mode="line")
        hyp = "".join(ln.text for ln in doc.pages[0].lines)
        pairs.setdefault(d.get("variant", "all"), []).append((d["text"], hyp))
        for a, b, _ in M.char_edits(M.normalize(d["text"]), M.normalize(hyp)):
            edits[(a, b)] += 1
        raw_ref, raw_hyp = ("".join(t.split()) for t in (d["text"], hyp))
        width_edits += sum(frozenset((a, b)) in width_pairs for a, b, _ in M.char_edits(raw_ref, raw_hyp))
    everything = [p for ps in pairs.values() for p in ps]
    report = {"all": M.cer(everything).to_dict(), **{v: M.cer(ps).to_dict() for v, ps in pairs.items()}}
    report["edits"] = sum(edits.values())
    report["deletions"] = sum(c for (_, b), c in edits.items() if b == "∅")
    report["case_edits"] = sum(c for (a, b), c in edits.items() if a != b and a.lower() == b.lower())
    report["width_edits"] = width_edits
    report["top_edits"] = [f"{a}->{b} {c}" for (a, b), c in edits.most_common(args.top)]
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
