"""Quotation marks come in pairs: settle the ones a line crop alone leaves ambiguous.

At text size an opening “ and a closing ” differ by a few pixels of curl, and a serif ASCII ' looks
like ’. The recognizer reads each mark on its own; the line as a whole says which one it must be:

- **Curly double quotes alternate** within a line: “ ” “ ”, or ” “ ” when the line starts inside a
  quotation that opened on the line before. Of the two alternating readings, :class:`QuotePairer`
  takes the one that costs least in the model's own log-probabilities at the marks' peak steps, and
  only where every mark it changes had at least ``min_prob`` there.
- **A mark that closes a backtick is ASCII '**: ```x'`` is the quoting of man pages and GNU
  documentation, where ’ never closes `.
- **Brackets close in kind**: [ with ], 【 with 】, 「 with 」. On scans a heavy ASCII ] reads as 】
  and [ as 「; when an opening and its closing bracket are of different kinds, the cheaper of the two
  ways to make them one kind is taken (the same cost and ``min_prob`` rule as for double quotes).

Nothing is added or dropped, and lines whose marks already pair are left as they are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .decoder import Reading

OPEN_D, CLOSE_D = "“", "”"
SINGLE = frozenset("`'‘’")
BRACKETS = {"[": "]", "【": "】", "「": "」"}  # opening -> closing of the same kind
CLOSING = {c: o for o, c in BRACKETS.items()}


@dataclass
class QuotePairer:
    """Rewrites quote marks of a decoded line (see the module docstring); built for one charset."""

    charset: list[str]
    min_prob: float = 1e-4
    _cls: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # class index of a char in the model's output (blank = 0)
        marks = {OPEN_D, CLOSE_D, "'", "’", *BRACKETS, *CLOSING}
        self._cls = {c: i + 1 for i, c in enumerate(self.charset) if c in marks}

    name = "quotes"

    def apply(self, reading: Reading) -> None:
        """:meth:`pair` on a greedy reading (:mod:`shizi.recognition.decoder`)."""
        rows = reading.rows(lambda i: self.needs_rows(reading.chars[i]))
        for i, k in enumerate(self.pair(reading.chars, rows)):
            reading.replace(i, k)

    def needs_rows(self, ch: str) -> bool:
        """Whether :meth:`pair` reads ``ch``'s probability row."""
        return ch in (OPEN_D, CLOSE_D) or ch in BRACKETS or ch in CLOSING

    def pair(self, chars: list[str], rows: list[np.ndarray | None]) -> list[int | None]:
        """For each char, the class index to use instead, or None; ``rows[i]`` is char ``i``'s peak-step
        probability row where :meth:`needs_rows` is true. ``chars`` is updated in place."""
        out: list[int | None] = [None] * len(chars)
        self._pair_double(chars, rows, out)
        self._close_backticks(chars, out)
        self._match_brackets(chars, rows, out)
        return out

    def _cost(self, chars: list[str], rows: list[np.ndarray | None], changes: list[tuple[int, str]]) -> float:
        """What reading ``changes`` (index, new mark) costs in log-probability at the marks' peak steps;
        inf where a new mark is not in the charset or had less than ``min_prob``."""
        cost = 0.0
        for i, w in changes:
            row = rows[i]
            if w not in self._cls or row is None or row[self._cls[w]] < self.min_prob:
                return math.inf
            read = max(float(row[self._cls[chars[i]]]), 1e-12)
            cost += math.log(read) - math.log(float(row[self._cls[w]]))
        return cost

    def _match_brackets(self, chars: list[str], rows: list[np.ndarray | None], out: list[int | None]) -> None:
        openers: list[int] = []
        for i, c in enumerate(chars):
            if c in BRACKETS:
                openers.append(i)
            elif c in CLOSING and openers:
                o = openers.pop()
                if BRACKETS[chars[o]] == c:
                    continue
                options = [[(i, BRACKETS[chars[o]])], [(o, CLOSING[c])]]
                costs = [self._cost(chars, rows, ch) for ch in options]
                k = int(np.argmin(costs))
                if not math.isinf(costs[k]):
                    for j, w in options[k]:
                        chars[j] = w
                        out[j] = self._cls[w]

    def _pair_double(self, chars: list[str], rows: list[np.ndarray | None], out: list[int | None]) -> None:
        marks = [i for i, c in enumerate(chars) if c in (OPEN_D, CLOSE_D)]
        if len(marks) < 2 or OPEN_D not in self._cls or CLOSE_D not in self._cls:
            return
        best: tuple[float, list[tuple[int, str]]] | None = None
        for first, second in ((OPEN_D, CLOSE_D), (CLOSE_D, OPEN_D)):
            want = [second if n % 2 else first for n in range(len(marks))]
            changes = [(i, w) for i, w in zip(marks, want, strict=True) if chars[i] != w]
            cost = self._cost(chars, rows, changes)
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
