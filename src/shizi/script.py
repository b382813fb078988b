"""Simplified or traditional output: the recognised text converted with OpenCC (``pip install
'shizi[script]'``), or left as printed (the default).

The conversion is by phrase (OpenCC's ``t2s`` / ``s2t``, which choose a character by its word:
头发 → 頭髮, 发展 → 發展); where a phrase would change a line's length, character by character, so
every character keeps its own box and confidence.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .document import Page
from .errors import ShiziError

#: values of ``script`` (Reader, ``shizi read --script``, the service's ``script`` option)
SCRIPTS = ("as-printed", "simplified", "traditional")
_OPENCC = {"simplified": "t2s", "traditional": "s2t"}
_LOCK = threading.Lock()
_CONVERTERS: dict[str, Callable[[str], str]] = {}


def check_script(script: str) -> str:
    if script not in SCRIPTS:
        raise ValueError(f"script must be one of {', '.join(SCRIPTS)}, not {script!r}")
    return script


def converter(script: str) -> Callable[[str], str]:
    """``text -> text`` for ``script`` (identity for ``as-printed``); ShiziError when OpenCC is missing."""
    if check_script(script) == "as-printed":
        return lambda s: s
    with _LOCK:
        conv = _CONVERTERS.get(script)
        if conv is None:
            try:
                import opencc
            except ImportError:
                raise ShiziError(f"script={script} needs OpenCC: pip install 'shizi[script]'") from None
            cc = opencc.OpenCC(_OPENCC[script])
            conv = _CONVERTERS[script] = cc.convert
    return conv


def convert_page(page: Page, script: str) -> Page:
    """Convert every line, word and character text of ``page`` in place (and return it)."""
    if check_script(script) == "as-printed":
        return page
    conv = converter(script)
    for line in page.lines:
        new = conv(line.text)
        if len(new) != len(line.text) or any(a.isspace() != b.isspace() for a, b in zip(new, line.text,
                                                                                          strict=True)):
            new = "".join(c if len(c := conv(ch)) == 1 else ch for ch in line.text)
        chars = line.chars
        glyphs = [ch for ch in new if not ch.isspace()]
        if len(glyphs) == len(chars):
            for c, g in zip(chars, glyphs, strict=True):
                c.text = g
            for w in line.words:
                w.text = "".join(c.text for c in w.chars) if w.chars else conv(w.text)
        else:  # words without character detail (a result read back from JSON)
            for w in line.words:
                w.text = conv(w.text)
                for c in w.chars:
                    c.text = conv(c.text)
        line.text = new
    return page


__all__ = ["SCRIPTS", "check_script", "converter", "convert_page"]
