"""Quotation marks come in pairs: settle the ones a line crop alone leaves ambiguous.

At text size an opening “ and a closing ” differ by a few pixels of curl, and a serif ASCII ' looks
like ’. The recognizer reads each mark on its own; the line as a whole says which one it must be:

- **Curly double quotes alternate** within a line: “ ” “ ”, or ” “ ” when the line starts inside a
  quotation that opened on the line before. Of the two alternating readings, :class:`QuotePairer`
  takes the one that costs least in the model's own log-probabilities at the marks' peak steps, and
  only where every mark it changes had at least ``min_prob`` there.
- **A mark that closes a backtick is ASCII '**: ```x'`` is the quoting of man pages and GNU
  documentation, where ’ never closes `.

Nothing is added or dropped, and lines whose marks already pair are left as they are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

OPEN_D, CLOSE_D = "“", "”"
SINGLE = frozenset("`'‘’")


@dataclass
class QuotePairer:
    """Rewrites quote marks of a decoded line (see the module docstring); built for one charset."""

    charset: list[str]
    min_prob: float = 1e-4
    _cls: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # class index of a char in the model's output (blank = 0)
        self._cls = {c: i + 1 for i, c in enumerate(self.charset) if c in (OPEN_D, CLOSE_D, "'", "’")}

    def needs_rows(self, ch: str) -> bool:
        """Whether :meth:`pair` reads ``ch``'s probability row."""
        return ch in (OPEN_D, CLOSE_D)

    def pair(self, chars: list[str], rows: list[np.ndarray | None]) -> list[int | None]:
        """For each char, the class index to use instead, or None; ``rows[i]`` is char ``i``'s peak-step
        probability row where :meth:`needs_rows` is true. ``chars`` is updated in place."""
        out: list[int | None] = [None] * len(chars)
        self._pair_double(chars, rows, out)
        self._close_backticks(chars, out)
        return out

    def _pair_double(self, chars: list[str], rows: list[np.ndarray | None], out: list[int | None]) -> None:
        marks = [i for i, c in enumerate(chars) if c in (OPEN_D, CLOSE_D)]
        if len(marks) < 2 or OPEN_D not in self._cls or CLOSE_D not in self._cls:
            return
        best: tuple[float, list[tuple[int, str]]] | None = None
        for first, second in ((OPEN_D, CLOSE_D), (CLOSE_D, OPEN_D)):
            want = [second if n % 2 else first for n in range(len(marks))]
            changes = [(i, w) for i, w in zip(marks, want, strict=True) if chars[i] != w]
            cost = 0.0
            for i, w in changes:
                row = rows[i]
                if row is None or row[self._cls[w]] < self.min_prob:
                    cost = math.inf
                    break
                read = max(float(row[self._cls[chars[i]]]), 1e-12)
                cost += math.log(read) - math.log(float(row[self._cls[w]]))
            if best is None or cost < best[0]:
                best = (cost, changes)
        if best is None or math.isinf(best[0]):
            return
        for i, w in best[1]:
            chars[i] = w
            out[i] = self._cls[w]

    def _close_backticks(self, chars: list[str], out: list[int | None]) -> None:
        if "'" not in self._cls:
            return
        opener = None
        for i, c in enumerate(chars):
            if c not in SINGLE:
                continue
            if c == "’" and opener == "`":
                chars[i] = "'"
                out[i] = self._cls["'"]
                opener = None
            else:
                opener = c if c in "`‘" else None
