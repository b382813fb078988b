"""The recognition charset: simplified (GB2312) and common traditional (Big5 level 1 plus the OpenCC
traditional forms of GB2312) Han, ASCII,
full-width forms and Chinese/Western punctuation.

Built from Python's own codecs so it is reproducible offline; written beside each model as charset.txt.
"""

from __future__ import annotations

import unicodedata
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


def save_charset(chars: list[str], path: str | Path) -> None:
    Path(path).write_text("\n".join(chars) + "\n", encoding="utf-8")


def load_charset(path: str | Path) -> list[str]:
    text = Path(path).read_text(encoding="utf-8")
    return text[:-1].split("\n") if text.endswith("\n") else text.split("\n")
