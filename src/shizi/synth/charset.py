"""The recognition charsets.

:func:`build_charset` is the shipped recognizers' (9,668 symbols): printable ASCII, full-width forms,
Chinese and Western punctuation, the 6,763 GB2312 Han, Big5 level 1 (common traditional) and the
OpenCC s2t forms of GB2312 characters that Big5 level 1 lacks.

:func:`build_extended_charset` (16,046) is what a recognizer should read (issue #28), built but not yet
trained: teaching a CRNN 6,400 new classes takes some 100 sightings each, about 20,000 steps of half
new-character lines at this model's size (docs/experiments.md), more than a 2-core CPU session gives.
It adds the Latin-1 letters, ‧ 〇 and common symbols, Big5 level 2, every Han of jieba's dictionary
words (the installable stand-in for the 8,105 of the Table of General Standard Chinese Characters,
7,521 of which it holds) and the OpenCC s2t / s2tw / s2hk forms of those and of GB2312.
``bench/charset_coverage.py`` measures both on corpora they were not built from.

Built from Python's codecs, jieba and OpenCC, so they are reproducible offline; a model's charset is
written beside it as charset.txt.
"""

from __future__ import annotations

import os
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path

PUNCTUATION = (
    "·、。，：；！？“”‘’《》〈〉【】（）—…～￥「」『』〔〕［］｛｝〖〗•×÷°±≤≥≠≈∞√％‰℃№§¥€£←→↑↓①②③④⑤⑥⑦⑧⑨⑩"
    "–―‖′″※"
)


def _codec_chars(codec: str, lead: range, trail: range) -> list[str]:
    out = []
    for hi in lead:
        for lo in trail:
            try:
                ch = bytes([hi, lo]).decode(codec)
            except UnicodeDecodeError:
                continue
            if len(ch) == 1:
                out.append(ch)
    return out


def gb2312_han() -> list[str]:
    """The 6,763 Han characters of GB2312 (levels 1 and 2)."""
    return [c for c in _codec_chars("gb2312", range(0xB0, 0xF8), range(0xA1, 0xFF)) if _is_han(c)]


def big5_level1_han() -> list[str]:
    """Big5 level 1: the 5,401 common traditional characters (0xA440–0xC67E)."""
    chars = _codec_chars("big5", range(0xA4, 0xC7), list(range(0x40, 0x7F)) + list(range(0xA1, 0xFF)))
    return [c for c in chars if _is_han(c) and c.encode("big5") <= b"\xc6\x7e"]


def _is_han(ch: str) -> bool:
    return "CJK UNIFIED IDEOGRAPH" in unicodedata.name(ch, "")


def build_charset() -> list[str]:
    """Deterministic ordered charset (no blank; the networks put the CTC blank at index 0)."""
    seen: dict[str, None] = {}
    for ch in [chr(c) for c in range(0x20, 0x7F)]:  # printable ASCII incl. space
        seen.setdefault(ch, None)
    for ch in [chr(c) for c in range(0xFF01, 0xFF5F)]:  # full-width forms
        seen.setdefault(ch, None)
    for ch in PUNCTUATION:
        seen.setdefault(ch, None)
    for ch in gb2312_han() + big5_level1_han() + traditional_of_gb2312():
        seen.setdefault(ch, None)
    return list(seen)


def traditional_of_gb2312() -> list[str]:
    """Traditional forms (OpenCC s2t) of GB2312 characters that Big5 level 1 lacks."""
    import opencc

    conv = opencc.OpenCC("s2t")
    return [t for c in gb2312_han() for t in conv.convert(c) if _is_han(t)]


def big5_han() -> list[str]:
    """Big5 levels 1 (0xA440–0xC67E, 5,401 common traditional characters) and 2 (0xC940–0xF9D5)."""
    chars = _codec_chars("big5", range(0xA4, 0xFA), list(range(0x40, 0x7F)) + list(range(0xA1, 0xFF)))
    return [c for c in chars if _is_han(c)]


def _is_han(ch: str) -> bool:
    return "CJK UNIFIED IDEOGRAPH" in unicodedata.name(ch, "")


def jieba_han_counts() -> Counter:
    """Running Han characters of jieba's dictionary: each word's characters weighted by its frequency.
    Words of one character are left out: among them are GBK-decoded UTF-8 bytes (紝 銆 殑 鐨, tagged
    like real ones), and every real one of them also stands in words."""
    import jieba

    counts: Counter = Counter()
    with open(os.path.join(os.path.dirname(jieba.__file__), "dict.txt"), encoding="utf-8") as f:
        for line in f:
            parts = line.split(" ")
            if len(parts) >= 2 and len(parts[0]) >= 2:
                for ch in parts[0]:
                    if _is_han(ch):
                        counts[ch] += int(parts[1])
    return counts


def traditional_forms(chars: list[str]) -> list[str]:
    """The traditional forms (:data:`OPENCC_CONFIGS`) of ``chars`` in a fixed order."""
    import opencc

    out = []
    for cfg in OPENCC_CONFIGS:
        conv = opencc.OpenCC(cfg)
        out += [t for c in chars for t in conv.convert(c) if _is_han(t)]
    return out


EXTRA_SYMBOLS = "‧〇●○☆★■□▲△▼▽◆◇♪─│┌┐└┘├┤┬┴┼═║♀♂¢©®™¶µ¼½¾¹²³ª º«»¿¡"
OPENCC_CONFIGS = ("s2t", "s2tw", "s2hk")


@lru_cache(maxsize=1)
def _extended() -> tuple[str, ...]:
    seen: dict[str, None] = dict.fromkeys(build_charset())  # the shipped order first: rows stay put
    extra = [chr(c) for c in range(0xC0, 0x100) if c not in (0xD7, 0xF7)]  # Latin-1 letters
    gb = gb2312_han()
    frequent = [ch for ch, _ in sorted(jieba_han_counts().items(), key=lambda kv: (-kv[1], kv[0]))]
    for ch in extra + list(EXTRA_SYMBOLS) + big5_han() + frequent + traditional_forms(gb + frequent):
        seen.setdefault(ch, None)
    return tuple(seen)


def build_extended_charset() -> list[str]:
    """The 16,046-symbol charset (module docstring), the shipped one first in its order."""
    return list(_extended())


def save_charset(chars: list[str], path: str | Path) -> None:
    Path(path).write_text("\n".join(chars) + "\n", encoding="utf-8")


def load_charset(path: str | Path) -> list[str]:
    text = Path(path).read_text(encoding="utf-8")
    return text[:-1].split("\n") if text.endswith("\n") else text.split("\n")
