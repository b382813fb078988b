"""Re-reading unsure lines: a strategy around the recognizer's model runner.

A line with a character less sure than ``threshold`` is read again at each of ``scales`` (widths
relative to the crop's aspect, as ``RecConfig.width_scale``), in turn, and with ``until_agree`` only
until a reading repeats an earlier one's text; among the texts the readings give, the one with the
highest CTC likelihood summed over all the readings (each per time step) wins. Different widths fail on
different glyphs, and a wrong reading is rarely likely under the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .ctc import ctc_log_likelihoods
from .types import RecognitionResult


class SparseProbs:
    """A reading's probabilities ``[T, C+1]`` kept for the classes that reach ``floor`` at some step:
    a few hundred of the charset's thousands, so that a batch's full array need not be held while its
    unsure lines are read again. Other classes read as 0 (the likelihood's own floor)."""

    floor = 1e-4

    def __init__(self, probs: np.ndarray) -> None:
        self.steps = len(probs)
        self.classes = np.flatnonzero(probs.max(axis=0, initial=0.0) >= self.floor)
        self.values = np.ascontiguousarray(probs[:, self.classes])

    def columns(self, classes: list[int]) -> np.ndarray:
        """``[T, len(classes)]``: the probabilities of ``classes`` (sorted), 0 where not kept."""
        out = np.zeros((self.steps, len(classes)), dtype=self.values.dtype)
        idx = np.searchsorted(self.classes, classes)
        idx = np.minimum(idx, max(len(self.classes) - 1, 0))
        hit = np.flatnonzero(self.classes[idx] == classes) if len(self.classes) else np.zeros(0, int)
        out[:, hit] = self.values[:, idx[hit]]
        return out


Read = tuple[RecognitionResult, "SparseProbs | None"]


class Rereader:
    """Settles a batch's unsure lines (see the module docstring); ``class_of`` maps a character to its
    CTC class (blank = 0). No ``scales``: every line is read once."""

    def __init__(self, scales: Sequence[float], threshold: float, until_agree: bool,
                 class_of: dict[str, int]) -> None:
        self.scales, self.threshold, self.until_agree = tuple(scales), threshold, until_agree
        self.class_of = class_of

    def unsure(self, r: RecognitionResult) -> bool:
        """Whether a first reading is read again (its probabilities are then kept)."""
        return bool(self.scales) and min(r.char_confidences, default=1.0) < self.threshold

    def settle(self, first: list[Read], read_at: Callable[[list[int], float], list[Read]]
               ) -> list[RecognitionResult]:
        """The results of a batch read once (``first``, probabilities kept where :meth:`unsure`);
        ``read_at(indices, scale)`` reads those lines of the batch again at width ``scale``."""
        unsure = [j for j, (_, probs) in enumerate(first) if probs is not None]
        if not unsure:
            return [r for r, _ in first]
        readings = {j: [first[j]] for j in unsure}
        open_ = list(unsure)
        for scale in self.scales:
            if not open_:
                break
            for j, read in zip(open_, read_at(open_, scale), strict=True):
                readings[j].append(read)
            if self.until_agree:  # settled once a reading repeats an earlier one
                open_ = [j for j in open_ if readings[j][-1][0].text not in
                         {r.text for r, _ in readings[j][:-1]}]
        chosen = dict(zip(unsure, self.agree([readings[j] for j in unsure]), strict=True))
        return [chosen.get(j, r) for j, (r, _) in enumerate(first)]

    def agree(self, lines: list[list[Read]]) -> list[RecognitionResult]:
        """For each line's readings, the reading whose text is most likely under all of them together
        (sum over readings of the CTC log-likelihood per time step); one likelihood pass for all lines."""
        texts = [list(dict.fromkeys(r.text for r, _ in readings)) for readings in lines]
        items = []
        for readings, ts in zip(lines, texts, strict=True):
            if len(ts) > 1:
                labels = [[self.class_of[c] for c in t] for t in ts]
                needed = sorted({0}.union(*labels))  # blank and the candidates' classes
                position = {k: i for i, k in enumerate(needed)}
                columns = [probs.columns(needed) for _, probs in readings]
                items += [(cols, [position[k] for k in lab]) for lab in labels for cols in columns]
        ll = iter(ctc_log_likelihoods(items).tolist())
        chosen = []
        for readings, ts in zip(lines, texts, strict=True):
            if len(ts) > 1:
                score = [sum(next(ll) / max(probs.steps, 1) for _, probs in readings) for _ in ts]
                best = ts[int(np.argmax(score))]
                chosen.append(next(r for r, _ in readings if r.text == best))
            else:
                chosen.append(readings[0][0])
        return chosen
