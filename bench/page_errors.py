"""Where a page set's errors come from: recognition on found lines, missed lines, or extra lines.

    .venv/bin/python bench/page_errors.py ../shared/eval/docs_zh_scan/labels.jsonl
    .venv/bin/python bench/page_errors.py ../shared/eval/docs_zh/labels.jsonl --det ctpn --show 20

Each detected line is given to the reference line that holds most of its area (at least
``--cover``, default 0.5), and the texts of a reference line's detected lines are joined left to
right. Then:

- ``recognition``: edits between each reference line and its joined text, broken down into edits
  at the line's first or last character (``at_ends``) and inside it; ``split_lines`` counts
  reference lines read as two or more detected lines; ``cut_at_ends`` counts the characters of
  runs of three or more lost at a line's start or end (the detector's polygon left them out);
- ``missed``: characters of reference lines that no detected line covers;
- ``extra``: characters of detected lines that lie on no reference line.

Their sum (``line_errors``, free of reading-order effects) is close to the page CER's error count
(``page_errors``, the same scoring as ``shizi eval``); the difference comes from reading order and
from detected lines spanning two references.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from shizi import metrics as M
from shizi.evaluate import load_labels, ref_polygon
from shizi.reader import Reader


def cut_ends(ref: str, hyp: str, least: int = 3) -> int:
    """Characters deleted in one run of at least ``least`` at the start or the end of a line: text
    the detected polygon left out rather than glyphs the recognizer misread."""
    ops = Levenshtein.opcodes(ref, hyp)
    runs = [ops[0], ops[-1]] if len(ops) > 1 else list(ops)
    return sum(o.src_end - o.src_start for o in runs
               if o.tag in ("delete", "replace") and o.src_end - o.src_start >= least
               and o.dest_end - o.dest_start <= 1)


def assign(hyps, refs, cover: float) -> list[int | None]:
    """For each detected line, the reference line holding the largest share (>= ``cover``) of its area."""
    ref_polys = [ref_polygon(r) for r in refs]
    owner: list[int | None] = []
    for h in hyps:
        shares = [M.area_share(h.polygon, r) for r in ref_polys]
        best = max(range(len(shares)), key=shares.__getitem__, default=None)
        owner.append(best if best is not None and shares[best] >= cover else None)
    return owner


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("labels", type=Path)
    ap.add_argument("--det", help="detection model name or folder")
    ap.add_argument("--rec", help="recognition model name or folder")
    ap.add_argument("--no-lm", action="store_true", help="decode without the language model")
    ap.add_argument("--cover", type=float, default=0.5)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--show", type=int, default=0, help="print the N matched lines with most edits")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--det-param", action="append", default=[], metavar="KEY=VALUE",
                    help="override a detector post-processing constant, e.g. box_thresh=0.45")
    args = ap.parse_args()
    reader = Reader(detector=args.det, recognizer=args.rec, threads=1, lm=not args.no_lm)
    changes = {key: json.loads(value) for key, value in (kv.split("=", 1) for kv in args.det_param)}  # JSON
    reader.detector = reader.detector.with_config(**changes)
    labels = load_labels(args.labels)[: args.limit]
    page_pairs, edits, worst = [], Counter(), []
    n = Counter()
    for lab in labels:
        doc = reader.read(lab["path"], mode="page")
        hyps = [ln for page in doc.pages for ln in page.lines]
        refs = [x for x in lab["lines"] if not x.get("ignore")]
        page_pairs.append((M.page_text(refs), M.page_text(hyps)))
        owner = assign(hyps, refs, args.cover)
        for j, r in enumerate(refs):
            mine = [i for i, o in enumerate(owner) if o == j]
            mine.sort(key=lambda i: min(p[0] for p in hyps[i].polygon))
            ref = M.normalize(r["text"])
            if not mine:
                n["missed"] += len(ref)
                n["lines_missed"] += 1
                continue
            n["split_lines"] += len(mine) > 1
            hyp = M.normalize("".join(hyps[i].text for i in mine))
            found = M.char_edits(ref, hyp)
            n["cut"] += cut_ends(ref, hyp)
            for a, b, pos in found:
                edits[(a, b)] += 1
                n["at_ends" if pos in (0, len(ref) - 1) or pos >= len(ref) else "inside"] += 1
            n["matched_chars"] += len(ref)
            if found:
                worst.append((len(found), lab["image"], ref, hyp))
        n["extra"] += sum(len(M.normalize(h.text)) for h, o in zip(hyps, owner, strict=True) if o is None)
        n["lines_extra"] += owner.count(None)
    page = M.cer(page_pairs)
    report = {
        "pages": len(labels),
        "line_errors": sum(edits.values()) + n["missed"] + n["extra"],
        "page_cer": round(page.cer, 4),
        "page_errors": page.errors,
        "recognition": {"edits": sum(edits.values()), "at_ends": n["at_ends"], "inside": n["inside"],
                        "chars": n["matched_chars"]},
        "cut_at_ends": n["cut"],
        "split_lines": n["split_lines"],
        "missed": {"chars": n["missed"], "lines": n["lines_missed"]},
        "extra": {"chars": n["extra"], "lines": n["lines_extra"]},
        "deletions": sum(c for (_, b), c in edits.items() if b == "∅"),
        "top_edits": [f"{a}->{b} {c}" for (a, b), c in edits.most_common(args.top)],
    }
    print(json.dumps(report, ensure_ascii=False, indent=1))
    for k, image, ref, hyp in sorted(worst, reverse=True)[: args.show]:
        print(f"{k:3d} {image}\n    ref {ref}\n    hyp {hyp}")


if __name__ == "__main__":
    main()
