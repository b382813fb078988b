"""CTC decoding: greedy best path (with the language-model hooks) and the likelihood of a given text."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .lexicon import WordCorrector
from .lm import CharCorrector
from .quotes import QuotePairer
from .types import RecognitionResult


def ctc_greedy_decode(
    probs: np.ndarray,
    charset: list[str],
    valid_steps: int | None = None,
    stride: float = 1.0,
    corrector: CharCorrector | None = None,
    pairer: QuotePairer | None = None,
    words: WordCorrector | None = None,
) -> RecognitionResult:
    """Greedy CTC on ``probs`` ``[T, C+1]`` (blank = 0).

    Argmax per step, collapse repeats, drop blanks; a ``corrector`` may then swap uncertain chars for
    runners-up at their peak step (:mod:`shizi.recognition.lm`), ``words`` settle uncertain letters of
    unknown Latin words (:mod:`shizi.recognition.lexicon`) and a ``pairer`` make quotation marks pair
    (:mod:`shizi.recognition.quotes`). A char's confidence is the max probability of its class
    over its run of steps; its x is ``(centre step + 0.5) * stride`` and its span the run's extent.
    """
    if valid_steps is not None:
        probs = probs[:valid_steps]
    if len(probs) == 0:
        return RecognitionResult("", 0.0)
    best = probs.argmax(axis=1)
    best_p = probs[np.arange(len(best)), best]
    # runs of equal argmax: (class, first step, last step), blanks and unknown classes dropped
    starts = np.flatnonzero(np.diff(best, prepend=-1))
    ends = np.append(starts[1:], len(best)) - 1
    run_max = np.maximum.reduceat(best_p, starts)
    classes = best[starts].tolist()
    keep = [i for i, k in enumerate(classes) if k != 0 and k - 1 < len(charset)]
    runs = [(classes[i], int(starts[i]), int(ends[i])) for i in keep]
    chars = [charset[k - 1] for k, _, _ in runs]
    confs = [float(run_max[i]) for i in keep]

    def peak(i: int) -> np.ndarray:
        _, s, t = runs[i]
        return probs[s + int(best_p[s : t + 1].argmax())]

    def replace(i: int, k: int | None) -> None:
        if k is not None:
            _, s, t = runs[i]
            confs[i] = float(probs[s : t + 1, k].max())

    if corrector is not None and runs:
        peaks = [peak(i) if c < corrector.threshold else None for i, c in enumerate(confs)]
        for i, k in enumerate(corrector.correct(chars, confs, peaks, charset)):
            replace(i, k)
    if words is not None and runs:
        rows = [peak(i) if c < words.threshold and words.needs_row(ch) else None
                for i, (ch, c) in enumerate(zip(chars, confs, strict=True))]
        for i, k in enumerate(words.correct(chars, confs, rows)):
            replace(i, k)
    if pairer is not None and runs:
        rows = [peak(i) if pairer.needs_rows(c) else None for i, c in enumerate(chars)]
        for i, k in enumerate(pairer.pair(chars, rows)):
            replace(i, k)
    xs = [((s + t) / 2 + 0.5) * stride for _, s, t in runs]
    spans = [(s * stride, (t + 1) * stride) for _, s, t in runs]
    text = "".join(chars)
    conf = float(np.mean(confs)) if confs else 0.0
    return RecognitionResult(text, conf, confs, xs, spans)


def ctc_log_likelihoods(items: Sequence[tuple[np.ndarray, Sequence[int]]], group: int = 32) -> np.ndarray:
    """``log p(labels | probs)`` under CTC for each ``(probs [T, C+1], labels)`` pair (blank = 0).

    The forward recursion over all label paths, with each step's forward vector rescaled to sum 1 so
    that long lines do not underflow; pairs of similar length run together (``group`` at a time, one
    loop over time). A text that needs more steps than ``T`` scores ``-inf``.
    """
    out = np.zeros(len(items))
    order = sorted(range(len(items)), key=lambda i: len(items[i][0]))
    for k in range(0, len(order), group):
        part = order[k : k + group]
        out[part] = _forward([items[i] for i in part])
    return out


def _forward(items: Sequence[tuple[np.ndarray, Sequence[int]]]) -> np.ndarray:
    n = len(items)
    lengths = np.array([len(p) for p, _ in items])
    states = max(2 * len(lab) + 1 for _, lab in items)
    t_max = int(lengths.max())
    # p[b, t, s]: probability of extended label s (blank, l1, blank, l2, ..., blank) at step t
    p = np.zeros((n, t_max, states))
    skip = np.zeros((n, states), bool)  # may come from s-2: a label differing from the one before
    last = np.zeros(n, int)
    for b, (probs, labels) in enumerate(items):
        lab = np.asarray(labels, dtype=np.int64)
        ext = np.zeros(2 * len(lab) + 1, dtype=np.int64)
        ext[1::2] = lab
        p[b, : len(probs), : len(ext)] = np.maximum(np.asarray(probs, dtype=np.float64)[:, ext], 1e-30)
        skip[b, 3 : len(ext) : 2] = lab[1:] != lab[:-1]
        last[b] = len(ext) - 1
    final = np.where((lengths == 0) & (last == 0), 0.0, -np.inf)  # no steps: only the empty text
    if t_max == 0:
        return final
    alpha = np.zeros((n, states))
    alpha[:, :2] = p[:, 0, :2]  # states past a text's own are 0 in p
    log_scale = np.zeros(n)
    rows = np.arange(n)
    for t in range(t_max):
        if t > 0:
            nxt = alpha.copy()
            nxt[:, 1:] += alpha[:, :-1]
            nxt[:, 2:] += np.where(skip[:, 2:], alpha[:, :-2], 0.0)
            alpha = nxt * p[:, t]
        total = alpha.sum(axis=1)
        alive = total > 0
        alpha[alive] /= total[alive, None]
        log_scale[alive] += np.log(total[alive])
        done = (lengths == t + 1) & alive
        if done.any():
            end = alpha[rows, last] + np.where(last > 0, alpha[rows, np.maximum(last - 1, 0)], 0.0)
            with np.errstate(divide="ignore"):
                final[done] = log_scale[done] + np.log(end[done])
    return final
