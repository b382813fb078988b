"""Build the language models the recognizer's decoder consults: the Han-character bigram model
(shizi.recognition.lm) and the Latin word list (shizi.recognition.lexicon).

    bash scripts/fetch_lm_corpus.sh                          # once: Debian help texts into data/lm_corpus
    python -m shizi.train lm src/shizi/models/lm_zh_bigram --corpus data/lm_corpus
    python -m shizi.train lexicon src/shizi/models/lex_en --corpus data/lm_corpus \
        --words /usr/share/dict/words

Two sources. jieba's word list: every Han word adds its frequency to each of its characters and to
each pair of neighbouring characters inside it, so the model knows which characters form words.
Running text (``--corpus``: HTML, Mallard, XML or plain text files, gzipped or not): every pair of
neighbouring Han characters, so it also knows which words follow each other (它已 / 已提 rather than
它己 / 己提). Repeated lines (page furniture) count once. The running-text counts are scaled so that
their Han pairs make ``corpus_share`` of all Han pair counts.

``extra`` (``--extra-chars``) names characters besides Han that count in the running text, with their
pairs: the shipped model counts 。、， so that the decoder settles 。/、 on scans by context.
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
LEXICON_FILE = "words.txt.gz"
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
TEXT_SUFFIXES = {".html", ".htm", ".xhtml", ".page", ".xml", ".txt"}
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


def _is_han(c: str) -> bool:
    return "\u4e00" <= c <= "\u9fff"


def _text_counts(lines: Iterable[str], vocab: set[str], extra: str) -> tuple[Counter, Counter, int, int]:
    """Character counts, pair counts, Han pair total and line count of running text: Han characters of
    ``vocab`` and the characters of ``extra`` count; any other character breaks the chain of pairs."""
    uni: Counter = Counter()
    pairs: Counter = Counter()
    han_pairs = n_lines = 0
    for line in lines:
        n_lines += 1
        prev = None
        for c in line:
            ok = c in vocab if _is_han(c) else c in extra
            if ok:
                uni[c] += 1
                if prev is not None:
                    pairs[prev, c] += 1
                    han_pairs += _is_han(prev) and _is_han(c)
            prev = c if ok else None
    return uni, pairs, han_pairs, n_lines


def build_bigram_lm(out_dir: Path, name: str = "lm_zh_bigram", smoothing: float = 30.0,
                    corpus: Iterable[Path] = (), corpus_share: float = 0.5, extra: str = "") -> Path:
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
    text_uni, text_pairs, text_han_pairs, text_lines = _text_counts(corpus_lines(corpus), vocab, extra)
    if text_pairs:
        # scale running-text counts so that its Han pairs make corpus_share of the Han pair mass
        scale = corpus_share / (1 - corpus_share) * sum(pairs.values()) / max(text_han_pairs, 1)
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
        han = sum(n for c, n in text_uni.items() if _is_han(c))
        config.update(corpus_lines=text_lines, corpus_han=han, corpus_share=corpus_share)
    if extra:
        config["extra_chars"] = extra
    (out_dir / "config.json").write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n")
    return path


def build_lexicon(out_dir: Path, name: str = "lex_en", corpus: Iterable[Path] = (),
                  word_lists: Iterable[Path] = (), min_count: int = 2, min_len: int = 2) -> Path:
    """Write ``words.txt.gz`` (sorted, one per line) and ``config.json``: the Latin words (a letter, then
    letters or digits, at least ``min_len`` long) of ``word_lists`` (one word per line; entries with
    other characters, such as possessives, are skipped) and those found at least ``min_count`` times
    in the running text of ``corpus`` (names of commands, keys and programs: Ctrl, xterm, F1)."""
    counts: Counter = Counter()
    for line in corpus_lines(corpus):
        counts.update(_LATIN_WORD.findall(line))
    words = {w for w, n in counts.items() if n >= min_count and len(w) >= min_len}
    from_corpus = len(words)
    listed = 0
    for path in word_lists:
        for w in Path(path).read_text(encoding="utf-8", errors="ignore").split():
            if len(w) >= min_len and _LATIN_WORD.fullmatch(w):
                words.add(w)
                listed += 1
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / LEXICON_FILE
    # mtime 0: the same words give the same bytes, hence the same sha256
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write("\n".join(sorted(words)).encode("utf-8"))
    config = {"name": name, "task": "lm", "arch": "latin_lexicon", "file": LEXICON_FILE,
              "sha256": sha256_file(path), "words": len(words), "listed_words": listed,
              "corpus_words": from_corpus, "min_count": min_count}
    (out_dir / "config.json").write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n")
    return path
