"""A Latin word list that settles the recognizer's uncertain letters inside English words and names.

In Latin text the recognizer's commonest errors are look-alikes at the same step: l / I / 1 / !,
n / m, e / c (``Ctr1``, ``AIt``, ``Umix``, ``shel1``). The model's runner-up is usually right, and
the word around the character says which one. :class:`WordCorrector` takes each token of letters and
digits (with the l-like marks ``! | [ ]`` when they are uncertain) that is not a known word, tries
the model's top candidates at its uncertain characters, and when some combination spells a known
word takes the most probable such combination. Tokens shorter than ``min_len``, tokens already known
and tokens no combination makes known stay as read: codes, numbers and unknown names are left alone.
Nothing is added or dropped.
"""

from __future__ import annotations

import gzip
import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import ModelError
from ..models import ModelInfo
from .decoder import Reading

LATIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
# marks the recognizer reads for l / I / 1 at text size; they join a token only when uncertain
L_LIKE = frozenset("!|[]！")


class Lexicon:
    """A set of words (one per line in ``config["file"]``, gzipped). Built by
    ``python -m shizi.train lexicon``."""

    def __init__(self, info: ModelInfo) -> None:
        try:
            with gzip.open(info.file_path, "rt", encoding="utf-8") as f:
                self.words = frozenset(w for w in f.read().split("\n") if w)
        except (OSError, EOFError, UnicodeDecodeError) as e:
            raise ModelError(f"model {info.name!r}: unreadable {info.file_path}: {e}") from None
        self.info = info

    def __len__(self) -> int:
        return len(self.words)

    def known(self, token: str) -> bool:
        """The word as listed, or a listed lower-case word written Capitalized or in CAPITALS."""
        if token in self.words:
            return True
        return (token.istitle() or token.isupper()) and token.lower() in self.words


@dataclass
class WordCorrector:
    """Re-chooses uncertain characters of unknown Latin tokens (see the module docstring); built for
    one charset."""

    lexicon: Lexicon
    charset: list[str]
    threshold: float  #: characters less sure than this may change (RecConfig.lexicon_threshold)
    min_prob: float = 1e-3
    top_k: int = 3
    max_uncertain: int = 3
    min_len: int = 3
    _latin: np.ndarray = field(init=False, repr=False)
    _cls: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._cls = {c: i + 1 for i, c in enumerate(self.charset)}  # class index (blank = 0)
        self._latin = np.array(sorted(self._cls[c] for c in LATIN if c in self._cls), dtype=np.int64)

    name = "lexicon"

    def apply(self, reading: Reading) -> None:
        """:meth:`correct` on a greedy reading (:mod:`shizi.recognition.decoder`)."""
        chars, confs = reading.chars, reading.confs
        rows = reading.rows(lambda i: confs[i] < self.threshold and self.needs_row(chars[i]))
        for i, k in enumerate(self.correct(chars, confs, rows)):
            reading.replace(i, k)

    def needs_row(self, ch: str) -> bool:
        """Whether :meth:`correct` reads the probability row of ``ch`` (when it is uncertain)."""
        return ch in LATIN or ch in L_LIKE

    def correct(
        self, chars: list[str], confs: list[float], rows: list[np.ndarray | None]
    ) -> list[int | None]:
        """For each char, the class index to use instead, or None to keep it. ``rows[i]`` is char
        ``i``'s peak-step probability row, needed where ``confs[i] < threshold`` and
        :meth:`needs_row`; ``chars`` is updated in place."""
        out: list[int | None] = [None] * len(chars)
        if not len(self._latin):
            return out

        def member(i: int) -> bool:
            if chars[i] in LATIN:
                return True
            return chars[i] in L_LIKE and confs[i] < self.threshold and rows[i] is not None

        i = 0
        while i < len(chars):
            if not member(i):
                i += 1
                continue
            j = i
            while j < len(chars) and member(j):
                j += 1
            self._settle(chars, confs, rows, i, j, out)
            i = j
        return out

    def _settle(self, chars, confs, rows, start: int, end: int, out: list[int | None]) -> None:
        token = "".join(chars[start:end])
        uncertain = [p for p in range(start, end) if confs[p] < self.threshold and rows[p] is not None]
        if (len(token) < self.min_len or not uncertain or len(uncertain) > self.max_uncertain
                or self.lexicon.known(token)):
            return
        options = [self._candidates(chars[p], rows[p]) for p in uncertain]
        best: tuple[float, tuple[int, ...]] | None = None
        letters = list(token)
        for combo in itertools.product(*options):
            for p, k in zip(uncertain, combo, strict=True):
                letters[p - start] = self.charset[k - 1]
            if not self.lexicon.known("".join(letters)):
                continue
            score = sum(math.log(max(float(rows[p][k]), 1e-12))
                        for p, k in zip(uncertain, combo, strict=True))
            if best is None or score > best[0]:
                best = (score, combo)
        if best is None:
            return
        for p, k in zip(uncertain, best[1], strict=True):
            c = self.charset[k - 1]
            if c != chars[p]:
                chars[p] = c
                out[p] = k

    def _candidates(self, ch: str, row: np.ndarray) -> list[int]:
        """The read char's class and the top ``top_k`` letters or digits at its peak step that have at
        least ``min_prob``."""
        probs = row[self._latin]
        top = self._latin[np.argsort(-probs, kind="stable")[: self.top_k]]
        out = [self._cls[ch]] if ch in self._cls else []
        out += [int(k) for k in top if row[k] >= self.min_prob and int(k) not in out]
        return out
