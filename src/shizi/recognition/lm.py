"""A Han-character bigram model that settles the recognizer's uncertain characters.

Look-alike characters (置/量, 准/淮, 并/井, 如/知) are the recognizer's commonest Han errors, and the
right one is often a runner-up at the same step. :class:`CharCorrector` revisits each greedy-decoded
character of the model's vocabulary (Han, and in the shipped model 。、，) whose probability is below a
threshold and picks among the vocabulary's candidates of its peak step by
``log p + weight * (log P(c | left) + log P(right | c))``; ``left`` and ``right`` are the decoded
neighbours, when they are in the vocabulary. Nothing else changes: no characters are added or dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ModelError
from ..models import ModelInfo
from .decoder import Reading


class BigramLM:
    """``log P(b | a)``: pair counts smoothed towards the unigram distribution (Dirichlet prior of
    ``config["smoothing"]`` pseudo-counts). Built by ``python -m shizi.train lm``."""

    def __init__(self, info: ModelInfo) -> None:
        try:
            with np.load(info.file_path) as d:
                chars = str(d["chars"])
                unigram = d["unigram"].astype(np.float64)
                self.pairs = d["pairs"].astype(np.int64)
                self.pair_counts = d["pair_counts"].astype(np.float64)
        except (OSError, KeyError, ValueError) as e:
            raise ModelError(f"model {info.name!r}: unreadable {info.file_path}: {e}") from None
        self.info = info
        self.index = {c: i for i, c in enumerate(chars)}
        self.size = len(chars)
        self.unigram = unigram
        self.p_unigram = (unigram + 0.5) / (unigram.sum() + 0.5 * len(chars))
        self.smoothing = float(info.config.get("smoothing", 30.0))

    def __contains__(self, ch: str) -> bool:
        return ch in self.index

    def log_prob(self, a: str, b: str) -> float:
        """``log P(b | a)``; both must be in the vocabulary."""
        i, j = self.index[a], self.index[b]
        key = i * self.size + j
        k = int(np.searchsorted(self.pairs, key))
        n = self.pair_counts[k] if k < len(self.pairs) and self.pairs[k] == key else 0.0
        return math.log((n + self.smoothing * self.p_unigram[j]) / (self.unigram[i] + self.smoothing))


@dataclass
class CharCorrector:
    """Re-chooses uncertain Han characters of a greedy CTC decode (see the module docstring)."""

    lm: BigramLM
    weight: float  #: the language model's weight against the recognizer's (RecConfig.lm_weight)
    threshold: float  #: characters less sure than this may change (RecConfig.lm_threshold)
    top_k: int = 5
    min_prob: float = 1e-3
    name = "lm"

    def apply(self, reading: Reading) -> None:
        """:meth:`correct` on a greedy reading (:mod:`shizi.recognition.decoder`)."""
        peaks = reading.rows(lambda i: reading.confs[i] < self.threshold)
        for i, k in enumerate(self.correct(reading.chars, reading.confs, peaks, reading.charset)):
            reading.replace(i, k)

    def correct(
        self, chars: list[str], confs: list[float], peaks: list[np.ndarray | None], charset: list[str]
    ) -> list[int | None]:
        """For each char, the class index (into ``probs``, blank = 0) to use instead, or None to keep it.

        ``confs[i]`` is char ``i``'s probability at its peak step and ``peaks[i]`` that step's
        probability row [C+1] (needed only where ``confs[i] < threshold``); ``chars`` is updated in
        place so that later choices see earlier corrections."""
        out: list[int | None] = [None] * len(chars)
        lm = self.lm
        for i, ch in enumerate(chars):
            if confs[i] >= self.threshold or ch not in lm:
                continue
            row = peaks[i]
            left = chars[i - 1] if i > 0 and chars[i - 1] in lm else None
            right = chars[i + 1] if i + 1 < len(chars) and chars[i + 1] in lm else None
            if left is None and right is None:
                continue
            top_k = min(self.top_k, len(row))
            top = np.argpartition(row, -top_k)[-top_k:]
            best, best_score = None, -math.inf
            for k in top:
                k = int(k)
                if k == 0 or row[k] < self.min_prob or k - 1 >= len(charset) or charset[k - 1] not in lm:
                    continue
                c = charset[k - 1]
                s = math.log(row[k])
                if left is not None:
                    s += self.weight * lm.log_prob(left, c)
                if right is not None:
                    s += self.weight * lm.log_prob(c, right)
                if s > best_score:
                    best, best_score = k, s
            if best is not None and charset[best - 1] != ch:
                out[i] = best
                chars[i] = charset[best - 1]
        return out
