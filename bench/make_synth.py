"""Write synthetic pages as a page set in shared/eval's format, for choosing settings off the eval sets.

    .venv/bin/python bench/make_synth.py                        # bench/out/synth_doc: 60 doc pages
    .venv/bin/python bench/make_synth.py OUT --pages 100 --kind scene --seed 9002
    .venv/bin/python bench/make_synth.py OUT --lines --kind any --pages 60 --seed 9101   # line crops
    .venv/bin/python bench/make_synth.py OUT --new-chars OLD/charset.txt --pages 600 --seed 9103
    .venv/bin/python bench/make_synth.py OUT --latin --pages 400 --seed 9104   # doubled letters
    .venv/bin/python bench/make_synth.py OUT --captchas other --pages 2000 --seed 9401   # labels.tsv

Pages come from :func:`shizi.synth.pages.render_page` on stream ``--seed`` (9001 by default; training
streams use other seeds), each line with its exact quad as ``poly`` and ``box``, its ``block``
(numbered in reading order) and the block's ``kind``; lines are listed in reading order. Score them with
``shizi eval OUT/labels.jsonl`` or ``bench/page_errors.py OUT/labels.jsonl``. Needs the ``train``
extra (the renderer). With ``--lines`` the pages' lines are written as the recognizer is trained on
them (``shizi.train.rec_data.PageLines``), a line set for ``shizi eval`` / ``bench/rec_errors.py``.
``--new-chars`` writes ``--pages`` single rendered lines (``SynthLines``) of the Han characters that
the extended charset (``shizi.synth.charset.build_extended_charset``) adds to the one given, between
common words;
``--latin`` ``--pages`` English lines, half their words with a doubled letter (``ll``, ``ss``, ``SS``);
``--captchas GENERATOR`` ``--pages`` captchas (:mod:`shizi.synth.captcha`) as PNG files with a
``labels.tsv``, the form of a user's own labelled crops (``python -m shizi.train rec --data``), and the
same as ``labels.jsonl`` for ``shizi eval``.
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
    ap.add_argument("--new-chars", type=Path, metavar="CHARSET",
                    help="write lines of the Han characters build_extended_charset() adds to this one")
    ap.add_argument("--latin", action="store_true", help="write English lines dense in doubled letters")
    ap.add_argument("--captchas", choices=["captcha", "other"], help="write captchas of this generator")
    args = ap.parse_args()
    out = args.out or HERE / "out" / f"synth_{args.kind}"
    out.mkdir(parents=True, exist_ok=True)
    kind = None if args.kind == "any" else args.kind
    if args.captchas:
        write_captchas(out, args.seed, args.pages, args.captchas)
        return
    if args.new_chars or args.latin:
        write_single_lines(out, args.seed, args.pages, args.new_chars)
        return
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


def write_single_lines(out: Path, seed: int, count: int, old_charset: Path | None) -> None:
    """``count`` rendered single lines (as the recognizer trains on them): of the characters new to
    ``old_charset`` between common words, or, without it, English words dense in doubled letters."""
    import random
    import re
    import unicodedata

    from shizi.synth.charset import build_extended_charset, load_charset
    from shizi.synth.corpus import TextSampler
    from shizi.synth.lines import render_line

    if old_charset:
        old = set(load_charset(old_charset))
        new = [c for c in build_extended_charset()
               if c not in old and "CJK UNIFIED" in unicodedata.name(c, "")]
        what, variant = f"{len(new)} new characters", "new"
    else:
        what, variant = "English words with doubled letters", "latin"
    sampler = TextSampler(random.Random(seed))
    doubled = [w for w in sampler.en if re.search(r"(.)\1", w)]
    with open(out / "labels.jsonl", "w", encoding="utf-8") as f:
        for i in range(count):
            rng = random.Random(seed * 1_000_003 + i)
            sampler.rng = rng
            if old_charset:
                sampler.focus, sampler.focus_share = new, 1.0
                crop, text = render_line(sampler, rng, 32, 16)
            else:
                words = [rng.choice(doubled) if rng.random() < 0.5 else rng.choice(sampler.en)
                         for _ in range(rng.randint(1, 4))]
                text = " ".join(w.upper() if rng.random() < 0.2 else w for w in words)[:24].strip()
                crop, text = render_line(_Fixed(text), rng, 32, 24)
            name = f"l{i:05d}.png"
            cv2.imwrite(str(out / name), crop)
            f.write(json.dumps({"image": name, "text": text, "variant": variant}, ensure_ascii=False) + "\n")
    print(f"{count} lines of {what}, stream {seed}, in {out}")


def write_captchas(out: Path, seed: int, count: int, generator: str) -> None:
    """``count`` captchas of ``generator`` as PNG files, ``labels.tsv`` (file<TAB>text) and
    ``labels.jsonl``."""
    import random

    from shizi.synth.captcha import GENERATORS, captcha_text

    with open(out / "labels.tsv", "w", encoding="utf-8") as tsv, \
            open(out / "labels.jsonl", "w", encoding="utf-8") as js:
        for i in range(count):
            rng = random.Random(seed * 1_000_003 + i)
            text = captcha_text(rng)
            name = f"c{i:05d}.png"
            cv2.imwrite(str(out / name), cv2.cvtColor(GENERATORS[generator](text, rng), cv2.COLOR_RGB2BGR))
            tsv.write(f"{name}\t{text}\n")
            js.write(json.dumps({"image": name, "text": text, "variant": generator}) + "\n")
    print(f"{count} captchas ({generator}), stream {seed}, in {out}")


class _Fixed:
    """A text sampler that gives one text (render_line draws its text from a sampler)."""

    def __init__(self, text: str):
        self.text = text

    def line(self, min_chars: int = 1, max_chars: int = 24) -> str:
        return self.text


if __name__ == "__main__":
    main()
