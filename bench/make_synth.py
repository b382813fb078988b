"""Write synthetic pages as a page set in shared/eval's format, for choosing settings off the eval sets.

    .venv/bin/python bench/make_synth.py                        # bench/out/synth_doc: 60 doc pages
    .venv/bin/python bench/make_synth.py OUT --pages 100 --kind scene --seed 9002
    .venv/bin/python bench/make_synth.py OUT --lines --kind any --pages 60 --seed 9101   # line crops

Pages come from :func:`shizi.synth.pages.render_page` on stream ``--seed`` (9001 by default; training
streams use other seeds), each line with its exact quad as ``poly`` and ``box``, its ``block``
(numbered in reading order) and the block's ``kind``; lines are listed in reading order. Score them with
``shizi eval OUT/labels.jsonl`` or ``bench/page_errors.py OUT/labels.jsonl``. Needs the ``train``
extra (the renderer). With ``--lines`` the pages' lines are written as the recognizer is trained on
them (``shizi.train.rec_data.PageLines``), a line set for ``shizi eval`` / ``bench/rec_errors.py``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2

from shizi.synth.pages import KIND_WEIGHTS, VERTICAL_QUOTES, render_page

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", type=Path)
    ap.add_argument("--pages", type=int, default=60)
    ap.add_argument("--seed", type=int, default=9001)
    ap.add_argument("--kind", choices=sorted(KIND_WEIGHTS) + ["any"], default="doc",
                    help="page kind; any: drawn as in training")
    ap.add_argument("--lines", action="store_true",
                    help="write the pages' lines as the recognizer is trained on them (PageLines) instead")
    args = ap.parse_args()
    out = args.out or HERE / "out" / f"synth_{args.kind}"
    out.mkdir(parents=True, exist_ok=True)
    kind = None if args.kind == "any" else args.kind
    if args.lines:
        write_lines(out, args.seed, args.pages, kind)
        return
    with open(out / "labels.jsonl", "w", encoding="utf-8") as f:
        for i in range(args.pages):
            page = render_page(args.seed, i, kind)
            name = f"p{i:03d}.png"  # lossless: the renderer already degrades pages (JPEG among others)
            cv2.imwrite(str(out / name), cv2.cvtColor(page.image, cv2.COLOR_RGB2BGR))
            lines = []
            for q, t, b, k in zip(page.quads, page.texts, page.blocks, page.block_kinds, strict=True):
                poly = [[round(float(x), 1), round(float(y), 1)] for x, y in q]
                xs, ys = [p[0] for p in poly], [p[1] for p in poly]
                line = {"text": t, "poly": poly, "box": [min(xs), min(ys), max(xs), max(ys)],
                        "block": b, "kind": k}
                drawn = "".join(VERTICAL_QUOTES.get(c, c) for c in t)
                if page.kind == "vertical" and drawn != t:  # as ../shared/eval/vertical_zh labels them
                    line["text_vertical_forms"] = drawn
                lines.append(line)
            h, w = page.image.shape[:2]
            item = {"image": name, "width": w, "height": h, "kind": page.kind, "lines": lines}
            f.write(json.dumps(item, ensure_ascii=False) + "\n")
    print(f"{args.pages} {args.kind} pages of stream {args.seed} in {out}")


def write_lines(out: Path, seed: int, pages: int, kind: str | None) -> None:
    """The lines of ``pages`` pages as :class:`shizi.train.rec_data.PageLines` cuts them (a vertical
    column as its cells side by side), grey PNGs with ``labels.jsonl`` as in ../shared/eval/lines_zh."""
    from shizi.train.rec_data import PageLines

    source = PageLines(seed, kind=kind)
    n = 0
    with open(out / "labels.jsonl", "w", encoding="utf-8") as f:
        for i in range(pages):
            page_kind, lines = source.page_lines(i)
            for crop, text in lines:
                name = f"l{n:05d}.png"
                cv2.imwrite(str(out / name), crop)
                item = {"image": name, "text": text, "page": i, "variant": page_kind}
                f.write(json.dumps(item, ensure_ascii=False) + "\n")
                n += 1
    print(f"{n} lines of {pages} pages ({kind or 'any kind'}) of stream {seed} in {out}")


if __name__ == "__main__":
    main()
