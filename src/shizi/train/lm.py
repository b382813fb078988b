"""Build the Han-character bigram model that the recognizer's decoder consults (shizi.recognition.lm).

    python -m shizi.train lm src/shizi/models/lm_zh_bigram

Counts come from jieba's word list: every Han word adds its frequency to each of its characters and
to each pair of neighbouring characters inside it. Pairs across word boundaries are not counted, so
the model knows which characters belong together in words, not which words follow each other.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np

from shizi.models import sha256_file
from shizi.synth.corpus import jieba_word_counts

FILE = "bigram.npz"


def build_bigram_lm(out_dir: Path, name: str = "lm_zh_bigram", smoothing: float = 30.0) -> Path:
    """Write ``bigram.npz`` (``chars``: the vocabulary as one string; ``unigram`` [V] counts;
    ``pairs`` sorted ``a * V + b`` keys and their ``pair_counts``) and ``config.json``."""
    words, counts = jieba_word_counts()
    unigram: Counter = Counter()
    pairs: Counter = Counter()
    for w, n in zip(words, counts, strict=True):
        for c in w:
            unigram[c] += n
        for a, b in zip(w, w[1:], strict=False):
            pairs[a, b] += n
    chars = "".join(sorted(unigram))
    index = {c: i for i, c in enumerate(chars)}
    v = len(chars)
    keys = np.array([index[a] * v + index[b] for a, b in pairs], dtype=np.int64)
    values = np.array(list(pairs.values()), dtype=np.float64)
    order = np.argsort(keys)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / FILE
    np.savez_compressed(
        path, chars=np.array(chars), unigram=np.array([unigram[c] for c in chars], dtype=np.float32),
        pairs=keys[order].astype(np.uint32), pair_counts=values[order].astype(np.float32),
    )
    config = {"name": name, "task": "lm", "arch": "han_bigram", "file": FILE, "sha256": sha256_file(path),
              "smoothing": smoothing, "chars": v, "pairs": len(pairs)}
    (out_dir / "config.json").write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n")
    return path
