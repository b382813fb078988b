"""Build the Han-character bigram model that the recognizer's decoder consults (shizi.recognition.lm).

    bash scripts/fetch_lm_corpus.sh                          # once: Debian help texts into data/lm_corpus
    python -m shizi.train lm src/shizi/models/lm_zh_bigram --corpus data/lm_corpus

Two sources. jieba's word list: every Han word adds its frequency to each of its characters and to
each pair of neighbouring characters inside it, so the model knows which characters form words.
Running text (``--corpus``: HTML, Mallard, XML or plain text files, gzipped or not): every pair of
neighbouring Han characters, so it also knows which words follow each other (它已 / 已提 rather than
它己 / 己提). Repeated lines (page furniture) count once. The running-text counts are scaled so that
they make ``corpus_share`` of all pair counts.
"""

from __future__ import annotations

import gzip
import html
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from shizi.models import sha256_file
from shizi.synth.corpus import jieba_word_counts

FILE = "bigram.npz"
TEXT_SUFFIXES = {".html", ".htm", ".xhtml", ".page", ".xml", ".txt"}
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
_SKIPPED = re.compile(r"(?is)<(script|style)[^>]*>.*?</\1>")
_TAG = re.compile(r"(?s)<[^>]+>")


def _file_text(path: Path) -> str:
    raw = gzip.open(path, "rb").read() if path.suffix == ".gz" else path.read_bytes()
    text = raw.decode("utf-8", errors="ignore")
    if _text_suffix(path) != ".txt":  # markup: tags end lines, entities decoded
        text = html.unescape(_TAG.sub("\n", _SKIPPED.sub(" ", text)))
    return text


def _text_suffix(path: Path) -> str:
    return (Path(path.stem).suffix if path.suffix == ".gz" else path.suffix).lower()


def corpus_files(roots: Iterable[Path]) -> list[Path]:
    """The text files (by suffix, gzipped or not) given in or under ``roots``, in sorted path order."""
    files: list[Path] = []
    for root in map(Path, roots):
        found = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        files += sorted(p for p in found if _text_suffix(p) in TEXT_SUFFIXES)
    return files


def corpus_lines(roots: Iterable[Path]) -> Iterator[str]:
    """Distinct non-empty lines of every text file in or under ``roots`` (:func:`corpus_files`)."""
    seen: set[str] = set()
    for f in corpus_files(roots):
        for line in _file_text(f).splitlines():
            line = line.strip()
            if line and line not in seen:
                seen.add(line)
                yield line


def build_bigram_lm(out_dir: Path, name: str = "lm_zh_bigram", smoothing: float = 30.0,
                    corpus: Iterable[Path] = (), corpus_share: float = 0.5) -> Path:
    """Write ``bigram.npz`` (``chars``: the vocabulary as one string; ``unigram`` [V] counts;
    ``pairs`` sorted ``a * V + b`` keys and their ``pair_counts``) and ``config.json``."""
    words, counts = jieba_word_counts()
    vocab = {c for w in words for c in w}
    unigram: Counter = Counter()
    pairs: Counter = Counter()
    for w, n in zip(words, counts, strict=True):
        for c in w:
            unigram[c] += n
        for a, b in zip(w, w[1:], strict=False):
            pairs[a, b] += n
    text_uni: Counter = Counter()
    text_pairs: Counter = Counter()
    text_lines = 0
    for line in corpus_lines(corpus):
        text_lines += 1
        for run in _HAN_RUN.findall(line):
            prev = None
            for c in run:  # characters outside the vocabulary break the run
                if c in vocab:
                    text_uni[c] += 1
                    if prev is not None:
                        text_pairs[prev, c] += 1
                prev = c if c in vocab else None
    if text_pairs:
        # scale running-text counts to corpus_share of the pair mass
        scale = corpus_share / (1 - corpus_share) * sum(pairs.values()) / sum(text_pairs.values())
        for c, n in text_uni.items():
            unigram[c] += n * scale
        for k, n in text_pairs.items():
            pairs[k] += n * scale
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
    if text_pairs:
        config.update(corpus_lines=text_lines, corpus_han=sum(text_uni.values()), corpus_share=corpus_share)
    (out_dir / "config.json").write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n")
    return path
