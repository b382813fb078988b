"""CTC: the likelihood of a given text under a reading's probabilities (greedy decoding is
:mod:`shizi.recognition.decoder`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


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
