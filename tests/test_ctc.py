"""CTC likelihood and the recognizer's re-reading of unsure lines."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from conftest import draw_line
from shizi.models import load_model
from shizi.recognition import CRNNRecognizer, RecognitionResult, ctc_greedy_decode, ctc_log_likelihoods
from shizi.recognition.reread import SparseProbs


def _brute_force(probs: np.ndarray, labels: list[int]) -> float:
    """log of the summed probability of every path that collapses to ``labels``."""
    total = 0.0
    for path in itertools.product(range(probs.shape[1]), repeat=len(probs)):
        collapsed = [k for t, k in enumerate(path) if k != 0 and (t == 0 or path[t - 1] != k)]
        if collapsed == labels:
            total += float(np.prod([probs[t, k] for t, k in enumerate(path)]))
    return np.log(total) if total > 0 else -np.inf


def test_ctc_log_likelihoods_equal_the_sum_over_paths():
    rng = np.random.default_rng(3)
    items = [(rng.dirichlet(np.ones(4), size=t), lab)
             for t in (1, 2, 3, 5, 6) for lab in ([], [1], [1, 1], [2, 1], [1, 2, 2], [3, 3, 3])]
    got = ctc_log_likelihoods(items)
    want = np.array([_brute_force(p, lab) for p, lab in items])
    # texts longer than their steps allow (a repeat needs a blank between: [3, 3, 3] needs 5) score -inf
    assert np.array_equal(np.isinf(got), np.isinf(want)) and np.isinf(want).sum() == 9
    finite = np.isfinite(want)
    assert np.allclose(got[finite], want[finite], atol=1e-9)
    # grouping pairs of similar length changes nothing
    assert np.allclose(ctc_log_likelihoods(items, group=1)[finite], got[finite], atol=1e-9)
    assert len(ctc_log_likelihoods([])) == 0
    no_steps = np.zeros((0, 4))
    assert ctc_log_likelihoods([(no_steps, []), (no_steps, [1])]).tolist() == [0.0, -np.inf]
    mixed = ctc_log_likelihoods([(no_steps, [2]), (items[0][0], [])])
    assert mixed[0] == -np.inf and mixed[1] == pytest.approx(want[0])


def test_ctc_log_likelihood_of_a_long_line_does_not_underflow():
    probs = np.full((400, 3), 0.01)
    probs[0::2, 1] = 0.98  # 中 blank 中 blank ...
    probs[1::2, 0] = 0.98
    (ll,) = ctc_log_likelihoods([(probs, [1] * 200)])
    assert np.isfinite(ll) and -400 * np.log(1 / 0.98) - 1 < ll < 0


@pytest.fixture
def tiny_recognizer(tiny_models):
    return CRNNRecognizer(load_model(tiny_models[1], task="recognition"))


def _reading(rec: CRNNRecognizer, rows: list[list[float]]) -> tuple[RecognitionResult, SparseProbs]:
    probs = np.array(rows, dtype=np.float32)
    return ctc_greedy_decode(probs, rec.charset), SparseProbs(probs)


def test_agree_keeps_the_text_most_likely_under_all_readings(tiny_recognizer):
    rec = tiny_recognizer  # charset 中, A
    # reading 1 leans to 中 (0.55), reading 2 is surer of A (0.6) but still gives 中 0.35: 中 wins,
    # though the surest single character says A
    one = _reading(rec, [[0.9, 0.05, 0.05], [0.4, 0.55, 0.05], [0.9, 0.05, 0.05]])
    two = _reading(rec, [[0.9, 0.05, 0.05], [0.05, 0.35, 0.6], [0.9, 0.05, 0.05]])
    assert (one[0].text, two[0].text) == ("中", "A")
    assert rec.rereader.agree([[one, two]])[0] is one[0]
    assert rec.rereader.agree([[two, one]])[0] is one[0]  # the order of readings does not matter
    # with reading 1 unsure between the two, reading 2's A wins
    three = _reading(rec, [[0.9, 0.05, 0.05], [0.05, 0.5, 0.45], [0.9, 0.05, 0.05]])
    four = _reading(rec, [[0.9, 0.05, 0.05], [0.05, 0.1, 0.85], [0.9, 0.05, 0.05]])
    assert [r.text for r in rec.rereader.agree([[three, four], [one, two]])] == ["A", "中"]
    assert rec.rereader.agree([[one, one]])[0] is one[0]  # agreeing readings: the first


def test_sparse_probs_keep_the_classes_that_matter():
    probs = np.full((3, 6), 1e-6, np.float32)
    probs[:, 0] = 0.5
    probs[0, 2], probs[1, 4], probs[2, 5] = 0.4, 0.3, 5e-5  # class 5 never reaches the floor (1e-4)
    sparse = SparseProbs(probs)
    assert sparse.classes.tolist() == [0, 2, 4] and sparse.steps == 3
    cols = sparse.columns([0, 1, 4, 5])
    zero = np.zeros(3, np.float32)
    assert np.array_equal(cols, np.stack([probs[:, 0], zero, probs[:, 4], zero], axis=1))
    assert SparseProbs(np.zeros((0, 6), np.float32)).columns([0, 3]).shape == (0, 2)


def test_only_unsure_lines_are_read_again(tiny_recognizer, monkeypatch):
    rec = tiny_recognizer
    sure = np.full((32, 120, 3), 255, np.uint8)
    draw_line(sure, 4, 6, 3, h=20, piece_w=24, gap=14)
    faint = sure.copy()
    faint[sure == 0] = 60  # grey bars: the tiny model is unsure of them
    widths: list[list[int]] = []
    run_batch = rec._run_batch

    def spy(items, keep):
        widths.append([im.shape[1] for im, _ in items])
        return run_batch(items, keep)

    monkeypatch.setattr(rec, "_run_batch", spy)
    plain = rec.with_config(reread_scales=[], reread_threshold=0.9).recognize([sure, faint])
    assert len(widths) == 1 and min(plain[1].char_confidences) < 0.9 < min(plain[0].char_confidences)
    widths.clear()
    rec = rec.with_config(reread_scales=[2.0], reread_threshold=0.9)
    again = rec.recognize([sure, faint])
    assert len(widths) == 2 and len(widths[1]) == 1  # the faint line only, at twice the width
    assert widths[1][0] == pytest.approx(2 * widths[0][1] / rec.config.width_scale, abs=2)
    assert [r.text for r in again] == [r.text for r in plain] == ["中中中", "中中中"]


def test_reread_until_agree_stops_once_a_text_repeats(tiny_recognizer, monkeypatch):
    rec = tiny_recognizer  # charset 中, A
    faint = np.full((32, 120, 3), 255, np.uint8)
    draw_line(faint, 4, 6, 3, h=20, piece_w=24, gap=14)
    faint[faint == 0] = 60  # unsure: read again
    calls: list[int] = []
    read = rec._read

    def spy(prepared):
        calls.append(len(prepared))
        return read(prepared)

    monkeypatch.setattr(rec, "_read", spy)
    rec = tiny_recognizer.with_config(reread_scales=[2.0, 1.5, 3.0], reread_threshold=0.9,
                                      reread_until_agree=False)
    first = rec.recognize([faint])
    assert calls == [1, 1, 1]  # every width
    calls.clear()
    rec = rec.with_config(reread_until_agree=True)
    assert rec.recognize([faint])[0].text == first[0].text == "中中中"
    assert calls == [1]  # the first re-reading gave the same text: settled
    # a re-reading that differs keeps the line open until one repeats an earlier text
    other = _reading(rec, [[0.9, 0.05, 0.05], [0.05, 0.1, 0.85], [0.9, 0.05, 0.05]])
    assert other[0].text == "A"
    replies = iter([[other]])
    calls.clear()
    monkeypatch.setattr(rec, "_read", lambda prepared: next(replies, None) or spy(prepared))
    assert rec.recognize([faint])[0].text in ("中中中", "A")  # as Rereader.agree weighs the three readings
    assert calls == [1]  # after "A", the 1.5 reading repeated 中中中; 3.0 was not needed


def test_reread_comes_from_the_config_and_can_be_turned_off(tmp_path):
    from shizi.reader import Reader
    from tiny_models import DATA, write_model_folder

    folder = write_model_folder(
        tmp_path / "rec",
        (DATA / "tiny-rec.onnx").read_bytes(),
        {"name": "tiny-rec-reread", "task": "recognition", "arch": "crnn-tiny-test", "height": 32,
         "width_stride": 8, "reread_scales": [1.5, 2], "reread_threshold": 0.8},
        charset=["中", "A"],
    )
    rec = CRNNRecognizer(load_model(folder, task="recognition"))
    assert (rec.config.reread_scales, rec.config.reread_threshold) == ((1.5, 2.0), 0.8)
    assert Reader(detector=False, recognizer=folder, reread=False).recognizer.config.reread_scales == ()
    line = np.full((32, 120, 3), 255, np.uint8)
    draw_line(line, 4, 6, 3, h=20, piece_w=24, gap=14)
    line[line == 0] = 60
    assert rec.recognize([line])[0].text == "中中中"
