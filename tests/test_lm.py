"""The Han-character bigram model and the decoder's corrections (shizi.recognition.lm)."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from shizi.errors import ModelError
from shizi.models import load_model
from shizi.recognition import ctc_greedy_decode


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
    fixed = ctc_greedy_decode(probs, charset, corrector=CharCorrector(lm, weight=0.2, threshold=0.9))
    assert fixed.text == "设置"
    assert fixed.char_confidences[1] == pytest.approx(0.4)  # the chosen class's probability
    # a confident char is left alone, and so is one without Han neighbours
    sure = CharCorrector(lm, weight=0.2, threshold=0.45)
    assert ctc_greedy_decode(probs, charset, corrector=sure).text == "设量"
    probs[0] = _probs([{4: 0.95}], len(charset))[0]
    assert ctc_greedy_decode(probs, charset, corrector=CharCorrector(lm)).text == "A量"


def test_reader_can_turn_the_language_model_off():
    from shizi.reader import Reader

    _lm()
    on, off = Reader(detector=False), Reader(detector=False, lm=False)
    assert on.recognizer.corrector is not None and off.recognizer.corrector is None


@pytest.mark.skipif(importlib.util.find_spec("jieba") is None, reason="needs the train extra (jieba)")
def test_shipped_lm_is_what_the_build_command_makes(tmp_path):
    from shizi.train.lm import build_bigram_lm

    shipped = _lm()
    build_bigram_lm(tmp_path)
    built = json.loads((tmp_path / "config.json").read_text())
    info = load_model("lm_zh_bigram", task="lm")
    assert built["sha256"] == info.config["sha256"], f"rebuild: python -m shizi.train lm {info.path}"
    assert built["chars"] == shipped.size
