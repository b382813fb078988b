"""The Latin word list and the decoder's word corrections (shizi.recognition.lexicon)."""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from shizi.errors import ModelError
from shizi.models import load_model, read_model_folder
from shizi.recognition import ctc_greedy_decode
from shizi.recognition.lexicon import Lexicon, WordCorrector

CHARSET = list("CtrlI1!AaseD的 ")
_no_jieba = pytest.mark.skipif(importlib.util.find_spec("jieba") is None, reason="needs the train extra")


def needs_train(test):
    """A test that builds a language model with the train extra (jieba): slow, skipped without it."""
    return pytest.mark.slow(_no_jieba(test))


def _lexicon(tmp_path: Path, words: list[str]) -> Lexicon:
    with gzip.open(tmp_path / "words.txt.gz", "wt", encoding="utf-8") as f:
        f.write("\n".join(words))
    config = {"name": "lex_test", "task": "lm", "file": "words.txt.gz"}
    (tmp_path / "config.json").write_text(json.dumps(config))
    return Lexicon(read_model_folder(tmp_path))


def _decode(text: str, doubts: dict[int, dict[str, float]], words: WordCorrector | None) -> str:
    """CTC rows spelling ``text`` (one step per char, a blank between); char ``i`` of ``doubts`` gets
    the given probabilities instead of 0.99 for itself."""
    rows = []
    for i, ch in enumerate(text):
        row = np.full(len(CHARSET) + 1, 1e-5, np.float32)
        for c, p in doubts.get(i, {ch: 0.99}).items():
            row[CHARSET.index(c) + 1] = p
        blank = np.full(len(CHARSET) + 1, 1e-5, np.float32)
        blank[0] = 0.99
        rows += [row, blank]
    return ctc_greedy_decode(np.stack(rows), CHARSET, correctors=[words] if words else ()).text


def test_known_words_and_their_capitalised_forms(tmp_path):
    lex = _lexicon(tmp_path, ["Ctrl", "set", "ID"])
    assert lex.known("Ctrl") and lex.known("set") and lex.known("Set") and lex.known("SET")
    assert not lex.known("ctrl") and not lex.known("sEt") and not lex.known("Id") and len(lex) == 3


def test_uncertain_letters_are_settled_by_the_word_they_spell(tmp_path):
    words = WordCorrector(_lexicon(tmp_path, ["Ctrl", "Alt", "set"]), CHARSET, threshold=0.9)
    # Ctr! with l the runner-up at the uncertain mark; AIt with l the runner-up of I
    assert _decode("Ctr!", {3: {"!": 0.6, "l": 0.3}}, None) == "Ctr!"
    assert _decode("Ctr!", {3: {"!": 0.6, "l": 0.3}}, words) == "Ctrl"
    assert _decode("的AIt的", {2: {"I": 0.5, "1": 0.3, "l": 0.2}}, words) == "的Alt的"
    # no candidate spells a word: a code stays as read
    assert _decode("AI1", {2: {"1": 0.5, "I": 0.4}}, words) == "AI1"
    # a confident char is not revisited; neither is a known word nor a token below min_len
    assert _decode("Ctr!", {3: {"!": 0.95, "l": 0.04}}, words) == "Ctr!"
    # (decoded, a read char is its step's argmax, so a known token would win anyway; called directly
    # with a row that favours another word, a known token is still not looked at)
    words_set = WordCorrector(_lexicon(tmp_path, ["Ctrl", "set", "sat"]), CHARSET, threshold=0.9)
    row = np.full(len(CHARSET) + 1, 1e-5, np.float32)
    row[CHARSET.index("e") + 1], row[CHARSET.index("a") + 1] = 0.3, 0.6
    chars = list("set")
    assert words_set.correct(chars, [0.99, 0.3, 0.99], [None, row, None]) == [None, None, None]
    assert chars == list("set")
    chars = list("sst")  # unknown: the same row makes it "sat"
    assert words_set.correct(chars, [0.99, 0.3, 0.99], [None, row, None])[1] == CHARSET.index("a") + 1
    assert _decode("set", {1: {"e": 0.5, "a": 0.45}}, words_set) == "set"
    short = WordCorrector(_lexicon(tmp_path, ["Al"]), CHARSET, threshold=0.9)
    assert _decode("Aa", {1: {"a": 0.5, "l": 0.45}}, short) == "Aa"
    # an l-like mark joins a token only while uncertain; spaces and Han characters end tokens
    assert _decode("Ctr !", {4: {"!": 0.6, "l": 0.3}}, words) == "Ctr !"


def test_the_most_probable_known_spelling_wins(tmp_path):
    words = WordCorrector(_lexicon(tmp_path, ["Alt", "A1t"]), CHARSET, threshold=0.9)
    # both Alt and A1t are "words": the likelier of the two at the uncertain step
    assert _decode("AIt", {1: {"I": 0.5, "1": 0.3, "l": 0.15}}, words) == "A1t"
    assert _decode("AIt", {1: {"I": 0.5, "1": 0.1, "l": 0.35}}, words) == "Alt"


def test_shipped_recognizer_uses_the_shipped_word_list():
    from shizi.reader import Reader

    try:
        on, off = Reader(detector=False), Reader(detector=False, lm=False)
    except ModelError as e:
        pytest.skip(f"models not installed: {e}")
    if not on.recognizer.info.config.get("lexicon"):
        pytest.skip("the default recognizer names no word list")
    words = [c for c in on.recognizer.correctors if c.name == "lexicon"]
    assert len(words) == 1 and all(c.name != "lexicon" for c in off.recognizer.correctors)
    lex = words[0].lexicon
    assert lex.known("Ctrl") and lex.known("Unix") and not lex.known("Ctr1")


@needs_train
def test_build_lexicon_from_word_lists_and_running_text(tmp_path):
    from shizi.train.lm import build_lexicon

    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "a.html").write_text(
        "<p>按Ctrl-Alt-F3键</p><p>运行xterm和Ctrl</p><p>once</p>", "utf-8")
    (tmp_path / "list").write_text("apple\napple's\nox\nA\nx2y\n", "utf-8")
    for out in ("one", "two"):
        build_lexicon(tmp_path / out, corpus=[tmp_path / "text"], word_lists=[tmp_path / "list"])
    lex = Lexicon(read_model_folder(tmp_path / "one"))
    # Ctrl twice in the text; Alt, F3, xterm, once only once; possessives and 1-letter words left out
    assert sorted(lex.words) == ["Ctrl", "apple", "ox", "x2y"]
    one, two = (json.loads((tmp_path / d / "config.json").read_text()) for d in ("one", "two"))
    assert one["sha256"] == two["sha256"] and one["words"] == 4


CORPUS = Path(__file__).resolve().parents[1] / "data" / "lm_corpus"
WORDS = Path("/usr/share/dict/words")


@needs_train
def test_shipped_lexicon_is_what_the_build_command_makes(tmp_path):
    from shizi.train.lm import build_lexicon

    try:
        info = load_model("lex_en", task="lm")
    except ModelError as e:
        pytest.skip(f"word list not installed: {e}")
    if not (CORPUS / "PACKAGES").exists() or not WORDS.exists():
        pytest.skip("needs bash scripts/fetch_lm_corpus.sh and wamerican")
    build_lexicon(tmp_path, corpus=[CORPUS], word_lists=[WORDS], min_count=info.config["min_count"])
    rebuild = f"rebuild: python -m shizi.train lexicon {info.path} --corpus data/lm_corpus --words {WORDS}"
    # the same words (the gzip bytes may differ with the zlib release)
    built = json.loads((tmp_path / "config.json").read_text())
    assert gzip.decompress((tmp_path / built["file"]).read_bytes()) == gzip.decompress(
        info.file_path.read_bytes()), rebuild
