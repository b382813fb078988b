"""The Han-character bigram model and the decoder's corrections (shizi.recognition.lm)."""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from shizi.errors import ModelError
from shizi.models import load_model
from shizi.recognition import ctc_greedy_decode

_no_jieba = pytest.mark.skipif(importlib.util.find_spec("jieba") is None, reason="needs the train extra")


def needs_train(test):
    """A test that builds a language model with the train extra (jieba): slow, skipped without it."""
    return pytest.mark.slow(_no_jieba(test))


def _lm():
    from shizi.recognition.lm import BigramLM

    try:
        return BigramLM(load_model("lm_zh_bigram", task="lm"))
    except ModelError as e:
        pytest.skip(f"language model not installed: {e}")


def _probs(rows: list[dict[int, float]], classes: int) -> np.ndarray:
    """One row per step: the given class probabilities, the rest spread evenly."""
    p = np.zeros((len(rows), classes + 1), np.float32)
    for t, row in enumerate(rows):
        rest = (1.0 - sum(row.values())) / (classes + 1 - len(row))
        p[t] = rest
        for k, v in row.items():
            p[t, k] = v
    return p


def test_bigram_prefers_pairs_that_form_words():
    lm = _lm()
    assert lm.log_prob("设", "置") > lm.log_prob("设", "量") + 3
    assert lm.log_prob("标", "准") > lm.log_prob("标", "淮") + 3
    assert "A" not in lm and "置" in lm


def test_corrector_settles_an_uncertain_lookalike():
    from shizi.recognition.lm import CharCorrector

    lm = _lm()
    charset = ["设", "置", "量", "A"]
    # 设, blank, 量 (0.5) narrowly ahead of 置 (0.4), blank
    probs = _probs([{1: 0.95}, {0: 0.95}, {3: 0.5, 2: 0.4}, {0: 0.95}], len(charset))
    assert ctc_greedy_decode(probs, charset).text == "设量"
    fixed = ctc_greedy_decode(probs, charset, correctors=[CharCorrector(lm, weight=0.2, threshold=0.9)])
    assert fixed.text == "设置"
    assert fixed.char_confidences[1] == pytest.approx(0.4)  # the chosen class's probability
    # a confident char is left alone, and so is one without Han neighbours
    sure = CharCorrector(lm, weight=0.2, threshold=0.45)
    assert ctc_greedy_decode(probs, charset, correctors=[sure]).text == "设量"
    probs[0] = _probs([{4: 0.95}], len(charset))[0]
    plain = CharCorrector(lm, weight=0.2, threshold=0.9)
    assert ctc_greedy_decode(probs, charset, correctors=[plain]).text == "A量"


def test_reader_can_turn_the_language_model_off():
    from shizi.reader import Reader

    _lm()
    on, off = Reader(detector=False), Reader(detector=False, lm=False)
    names = [[c.name for c in r.recognizer.correctors] for r in (on, off)]
    assert "lm" in names[0] and "lm" not in names[1] and "quotes" in names[1]


CORPUS = Path(__file__).resolve().parents[1] / "data" / "lm_corpus"


@needs_train
def test_shipped_lm_is_what_the_build_command_makes(tmp_path):
    from shizi.train.lm import build_bigram_lm

    shipped = _lm()
    info = load_model("lm_zh_bigram", task="lm")
    if "corpus_share" in info.config and not (CORPUS / "PACKAGES").exists():
        pytest.skip("needs the running text: bash scripts/fetch_lm_corpus.sh")
    corpus = [CORPUS] if "corpus_share" in info.config else []
    extra = info.config.get("extra_chars", "")
    build_bigram_lm(tmp_path, corpus=corpus, corpus_share=info.config.get("corpus_share", 0.5), extra=extra)
    # the same arrays (the .npz bytes also hold the zip layout, which differs between Python releases)
    rebuild = f"rebuild: python -m shizi.train lm {info.path} --corpus data/lm_corpus --extra-chars '{extra}'"
    with np.load(info.file_path) as want, np.load(tmp_path / "bigram.npz") as got:
        assert sorted(want.files) == sorted(got.files), rebuild
        for key in want.files:
            assert np.array_equal(want[key], got[key]), f"{key} differs; {rebuild}"
    built = json.loads((tmp_path / "config.json").read_text())
    assert {k: v for k, v in built.items() if k != "sha256"} == {
        k: v for k, v in info.config.items() if k not in ("sha256", "default")}, rebuild
    assert built["chars"] == shipped.size


def test_corpus_lines_strip_markup_and_repeats(tmp_path):
    from shizi.train.lm import corpus_lines

    (tmp_path / "a.html").write_text(
        "<html><style>p {color: red}</style><p>打开&quot;文件&quot;菜单</p><div>帮助</div></html>", "utf-8")
    with gzip.open(tmp_path / "b.txt.gz", "wt", encoding="utf-8") as f:
        f.write("帮助\n保存<文件>\n")
    (tmp_path / "c.png").write_bytes("\x89PNG 帮助".encode())
    assert list(corpus_lines([tmp_path])) == ['打开"文件"菜单', "帮助", "保存<文件>"]


@needs_train
def test_running_text_teaches_pairs_across_words(tmp_path):
    from shizi.recognition.lm import BigramLM
    from shizi.train.lm import build_bigram_lm

    text = tmp_path / "text"
    text.mkdir()
    (text / "t.txt").write_text("\n".join(f"第{i}次它已提供帮助" for i in range(50)), "utf-8")
    build_bigram_lm(tmp_path / "words")
    build_bigram_lm(tmp_path / "both", corpus=[text], corpus_share=0.5)
    words = BigramLM(load_model(str(tmp_path / "words"), task="lm"))
    both = BigramLM(load_model(str(tmp_path / "both"), task="lm"))
    gain = both.log_prob("它", "已") - words.log_prob("它", "已")
    assert gain > 2  # 它|已 crosses a word boundary: only running text counts it
    assert both.log_prob("它", "已") > both.log_prob("它", "己") + 3
    assert json.loads((tmp_path / "both" / "config.json").read_text())["corpus_lines"] == 50


@needs_train
def test_extra_chars_add_punctuation_and_keep_the_han_model(tmp_path):
    from shizi.recognition.lm import BigramLM
    from shizi.train.lm import build_bigram_lm

    text = tmp_path / "text"
    text.mkdir()
    lines = [f"第{i}步：打开文件。然后保存、关闭。" for i in range(40)] + ["它已提供帮助"] * 5
    (text / "t.txt").write_text("\n".join(lines), "utf-8")
    build_bigram_lm(tmp_path / "han", corpus=[text])
    build_bigram_lm(tmp_path / "punct", corpus=[text], extra="。、")
    han = BigramLM(load_model(str(tmp_path / "han"), task="lm"))
    punct = BigramLM(load_model(str(tmp_path / "punct"), task="lm"))
    assert "。" not in han and "。" in punct and "：" not in punct  # only the named characters
    assert punct.log_prob("件", "。") > punct.log_prob("件", "、") + 2  # 文件。 was seen, 文件、 was not
    assert punct.log_prob("。", "然") > punct.log_prob("、", "然") + 2
    # the Han part is unchanged
    assert punct.log_prob("它", "已") == pytest.approx(han.log_prob("它", "已"), abs=1e-6)
    assert json.loads((tmp_path / "punct" / "config.json").read_text())["extra_chars"] == "。、"
