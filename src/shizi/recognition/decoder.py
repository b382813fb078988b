"""Decoding a recognizer's probabilities: greedy CTC, then a pipeline of correctors.

Greedy CTC (:func:`greedy_reading`) gives a :class:`Reading`: the characters with their runs of time
steps, each character's confidence and its peak step's probability row. Correctors then re-choose
uncertain characters among the runners-up of their peak steps, one after the other in the order of
``RecConfig.correctors``; each is a :class:`Corrector` (``name`` and ``apply(reading)``) and can be
switched off alone by leaving its name out:

- ``lm``: the Han bigram model (:class:`shizi.recognition.lm.CharCorrector`; ``RecConfig.lm``);
- ``lexicon``: the Latin word list (:class:`shizi.recognition.lexicon.WordCorrector`; ``RecConfig.lexicon``);
- ``quotes``: quotation marks and brackets made to pair (:class:`shizi.recognition.quotes.QuotePairer`).

A corrector only swaps characters (never adds or drops one), so the runs, and with them the positions,
stay those of the greedy reading.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from .types import RecognitionResult


@dataclass
class Reading:
    """A greedy CTC reading of one line, which correctors change in place (:meth:`replace`)."""

    probs: np.ndarray  #: [T, C+1], blank = 0
    charset: list[str]
    #: (class, first step, last step) of each character's run of equal argmax
    runs: list[tuple[int, int, int]]
    chars: list[str]
    confs: list[float]  #: each character's highest probability over its run
    _best_p: np.ndarray = field(repr=False)

    def peak(self, i: int) -> np.ndarray:
        """The probability row [C+1] of character ``i``'s most confident step."""
        _, s, t = self.runs[i]
        return self.probs[s + int(self._best_p[s : t + 1].argmax())]

    def rows(self, wanted: Callable[[int], bool]) -> list[np.ndarray | None]:
        """Each character's peak row where ``wanted(i)``, else None (rows cost a copy each)."""
        return [self.peak(i) if wanted(i) else None for i in range(len(self.chars))]

    def replace(self, i: int, k: int | None) -> None:
        """Character ``i`` becomes class ``k`` (None: unchanged); its confidence that class's highest
        probability over the run."""
        if k is None:
            return
        _, s, t = self.runs[i]
        self.chars[i] = self.charset[k - 1]
        self.confs[i] = float(self.probs[s : t + 1, k].max())

    def result(self, stride: float) -> RecognitionResult:
        """The reading as a result; x and spans in input pixels (``stride`` per step)."""
        xs = [((s + t) / 2 + 0.5) * stride for _, s, t in self.runs]
        spans = [(s * stride, (t + 1) * stride) for _, s, t in self.runs]
        conf = float(np.mean(self.confs)) if self.confs else 0.0
        return RecognitionResult("".join(self.chars), conf, list(self.confs), xs, spans)


@runtime_checkable
class Corrector(Protocol):
    """One step of the decoder's pipeline: re-chooses characters of a :class:`Reading` in place."""

    name: str

    def apply(self, reading: Reading) -> None: ...


def greedy_reading(probs: np.ndarray, charset: list[str]) -> Reading:
    """Argmax per step, repeats collapsed, blanks (and classes past the charset) dropped."""
    if len(probs) == 0:
        return Reading(probs, charset, [], [], [], np.zeros(0, np.float32))
    best = probs.argmax(axis=1)
    best_p = probs[np.arange(len(best)), best]
    starts = np.flatnonzero(np.diff(best, prepend=-1))
    ends = np.append(starts[1:], len(best)) - 1
    run_max = np.maximum.reduceat(best_p, starts)
    classes = best[starts].tolist()
    keep = [i for i, k in enumerate(classes) if k != 0 and k - 1 < len(charset)]
    runs = [(classes[i], int(starts[i]), int(ends[i])) for i in keep]
    return Reading(probs, charset, runs, [charset[k - 1] for k, _, _ in runs],
                   [float(run_max[i]) for i in keep], best_p)


def ctc_greedy_decode(
    probs: np.ndarray,
    charset: list[str],
    valid_steps: int | None = None,
    stride: float = 1.0,
    correctors: Sequence[Corrector] = (),
) -> RecognitionResult:
    """Greedy CTC on ``probs`` ``[T, C+1]`` (blank = 0), then each of ``correctors`` in turn. A
    char's confidence is the max probability of its class over its run of steps; its x is
    ``(centre step + 0.5) * stride`` and its span the run's extent."""
    if valid_steps is not None:
        probs = probs[:valid_steps]
    reading = greedy_reading(probs, charset)
    if reading.chars:
        for corrector in correctors:
            corrector.apply(reading)
    return reading.result(stride)


CORRECTORS = ("lm", "lexicon", "quotes")


def build_correctors(names: Sequence[str], charset: list[str], lm: str | None = None,
                     lm_weight: float = 0.3, lm_threshold: float = 0.9, lexicon: str | None = None,
                     lexicon_threshold: float = 0.9,
                     cache: dict | None = None) -> list[Corrector]:
    """The correctors ``names`` (of :data:`CORRECTORS`) in that order; ``lm`` and ``lexicon`` need
    their model names (left out when None). ``cache`` keeps the loaded bigram models and word lists
    by name, so that variants of one recognizer (``with_config``) load each once."""
    from ..models import load_model
    from .lexicon import Lexicon, WordCorrector
    from .lm import BigramLM, CharCorrector
    from .quotes import QuotePairer

    unknown = [n for n in names if n not in CORRECTORS]
    if unknown:
        raise ValueError(f"unknown correctors {unknown}; choose from {list(CORRECTORS)}")
    cache = {} if cache is None else cache

    def get(kind: type, name: str):
        if (kind, name) not in cache:
            cache[kind, name] = kind(load_model(name, task="lm"))
        return cache[kind, name]

    out: list[Corrector] = []
    for name in names:
        if name == "lm" and lm:
            out.append(CharCorrector(get(BigramLM, lm), weight=lm_weight, threshold=lm_threshold))
        elif name == "lexicon" and lexicon:
            out.append(WordCorrector(get(Lexicon, lexicon), charset, threshold=lexicon_threshold))
        elif name == "quotes":
            out.append(QuotePairer(charset))
    return out
