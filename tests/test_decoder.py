"""The decoder's pipeline: greedy CTC, then correctors in the configured order, each switchable."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from shizi.config import RecConfig
from shizi.errors import ModelError
from shizi.models import load_model
from shizi.recognition import Corrector, CRNNRecognizer, Reading, ctc_greedy_decode
from shizi.recognition.decoder import greedy_reading
from shizi.recognition.quotes import QuotePairer

CHARSET = ["a", "b", "c", "“", "”"]


def _rows(steps: list[dict[str, float]]) -> np.ndarray:
    """One step per dict (the rest of its mass on the blank), a blank step after each."""
    rows = []
    for probs in steps:
        row = np.full(len(CHARSET) + 1, 1e-6, np.float32)
        for ch, p in probs.items():
            row[CHARSET.index(ch) + 1] = p
        row[0] = max(0.0, 1 - row.sum())
        blank = np.zeros(len(CHARSET) + 1, np.float32)
        blank[0] = 1.0
        rows += [row, blank]
    return np.stack(rows)


@dataclass
class Swap:
    """A toy corrector: every ``old`` becomes ``new`` (by its class)."""

    old: str
    new: str
    name: str = "swap"

    def apply(self, reading: Reading) -> None:
        for i, ch in enumerate(reading.chars):
            if ch == self.old:
                reading.replace(i, CHARSET.index(self.new) + 1)


def test_correctors_apply_in_order_and_each_sees_the_last():
    probs = _rows([{"a": 0.9, "b": 0.05, "c": 0.04}, {"c": 0.8}])
    assert ctc_greedy_decode(probs, CHARSET).text == "ac"
    a_to_b, b_to_c = Swap("a", "b"), Swap("b", "c")
    assert isinstance(a_to_b, Corrector)
    assert ctc_greedy_decode(probs, CHARSET, correctors=[a_to_b, b_to_c]).text == "cc"
    assert ctc_greedy_decode(probs, CHARSET, correctors=[b_to_c, a_to_b]).text == "bc"
    r = ctc_greedy_decode(probs, CHARSET, stride=4, correctors=[a_to_b])
    assert r.char_confidences[0] == pytest.approx(0.05)  # the new class's probability at its run
    assert r.char_spans == ctc_greedy_decode(probs, CHARSET, stride=4).char_spans  # positions stay


def test_reading_keeps_runs_and_peak_rows():
    probs = _rows([{"b": 0.6, "a": 0.3}, {"c": 0.99}])
    probs = np.concatenate([probs[:1], probs[:1], probs[1:]])  # "b" over two steps
    reading = greedy_reading(probs, CHARSET)
    assert reading.chars == ["b", "c"] and [r[1:] for r in reading.runs] == [(0, 1), (3, 3)]
    assert np.array_equal(reading.peak(0), probs[0])
    assert [r is None for r in reading.rows(lambda i: i == 1)] == [True, False]
    assert greedy_reading(probs[:0], CHARSET).result(8).text == ""


def test_quote_pairer_is_a_corrector():
    pairer = QuotePairer(CHARSET)
    assert isinstance(pairer, Corrector) and pairer.name == "quotes"
    probs = _rows([{"“": 0.6, "”": 0.39}, {"a": 0.99}, {"“": 0.55, "”": 0.44}])
    assert ctc_greedy_decode(probs, CHARSET).text == "“a“"
    assert ctc_greedy_decode(probs, CHARSET, correctors=[pairer]).text == "“a”"


def test_config_names_the_correctors_and_their_order(tiny_models):
    with pytest.raises(ValueError, match="correctors"):
        RecConfig.from_model({"width_stride": 8, "correctors": ["quotes", "spell"]})
    with pytest.raises(ValueError, match="correctors"):
        RecConfig.from_model({"width_stride": 8, "correctors": ["quotes", "quotes"]})
    rec = CRNNRecognizer(load_model(tiny_models[1], task="recognition"))
    assert [c.name for c in rec.correctors] == ["quotes"]  # the tiny model names no language model
    assert rec.with_config(correctors=()).correctors == []


def test_shipped_recognizer_builds_its_correctors_in_config_order():
    try:
        rec = CRNNRecognizer(load_model(None, task="recognition"))
    except ModelError as e:
        pytest.skip(f"models not installed: {e}")
    names = [c.name for c in rec.correctors]
    assert names == [n for n in rec.config.correctors if n == "quotes" or getattr(rec.config, n)]
    turned = rec.with_config(correctors=("quotes", "lexicon", "lm"))
    assert [c.name for c in turned.correctors] == [n for n in ("quotes", "lexicon", "lm") if n in names]
    no_lm = CRNNRecognizer(load_model(None, task="recognition"), lm=False)
    assert [c.name for c in no_lm.correctors] == ["quotes"]
