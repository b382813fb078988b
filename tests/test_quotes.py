"""Quotation marks and brackets made to pair after decoding (shizi.recognition.quotes)."""

from __future__ import annotations

import numpy as np

from shizi.recognition import ctc_greedy_decode
from shizi.recognition.quotes import QuotePairer

CHARSET = list("“”'’`‘ab自由[]【】「」")


def _decode(marks: list[dict[str, float]], pairer: QuotePairer | None = None) -> str:
    """Each step: the given chars' probabilities, a blank step between them."""
    rows = []
    for m in marks:
        p = np.full(len(CHARSET) + 1, 1e-6, np.float32)
        for ch, v in m.items():
            p[CHARSET.index(ch) + 1] = v
        rows += [p, np.eye(len(CHARSET) + 1, dtype=np.float32)[0]]
    return ctc_greedy_decode(np.stack(rows), CHARSET, correctors=[pairer] if pairer else ()).text


def test_a_misread_opening_quote_is_the_less_certain_of_two_closers():
    pairer = QuotePairer(CHARSET)
    line = [{"”": 0.6, "“": 0.4}, {"自": 0.99}, {"由": 0.99}, {"”": 0.99, "“": 0.01}]
    assert _decode(line) == "”自由”"
    assert _decode(line, pairer) == "“自由”"
    # the same marks, the other one uncertain: the line starts inside a quotation and opens another
    line = [{"”": 0.99, "“": 0.01}, {"a": 0.99}, {"”": 0.6, "“": 0.4}, {"b": 0.99}]
    assert _decode(line, pairer) == "”a“b"


def test_marks_that_pair_or_a_sure_mark_are_left_alone():
    pairer = QuotePairer(CHARSET)
    good = [{"“": 0.6, "”": 0.4}, {"a": 0.99}, {"”": 0.6, "“": 0.4}]
    assert _decode(good, pairer) == "“a”"
    single = [{"”": 0.6, "“": 0.4}, {"a": 0.99}]  # one mark alone can open or close
    assert _decode(single, pairer) == "”a"
    sure = [{"”": 0.9999}, {"a": 0.99}, {"”": 0.9999}]  # the alternative below min_prob at both
    assert _decode(sure, pairer) == "”a”"


def test_backtick_quoting_closes_with_ascii_apostrophe():
    pairer = QuotePairer(CHARSET)
    line = [{"`": 0.99}, {"a": 0.99}, {"’": 0.9}, {"b": 0.99}, {"’": 0.9}]
    assert _decode(line, pairer) == "`a'b’"  # an apostrophe after the pair stays curly
    curly = [{"‘": 0.99}, {"a": 0.99}, {"’": 0.9}]
    assert _decode(curly, pairer) == "‘a’"


def test_brackets_close_in_kind_at_the_less_certain_end():
    pairer = QuotePairer(CHARSET)
    closer_unsure = [{"[": 0.99, "「": 0.01}, {"a": 0.99}, {"】": 0.6, "]": 0.4}]
    assert _decode(closer_unsure) == "[a】"
    assert _decode(closer_unsure, pairer) == "[a]"
    opener_unsure = [{"「": 0.7, "[": 0.3}, {"a": 0.99}, {"]": 0.99, "」": 0.01}]
    assert _decode(opener_unsure, pairer) == "[a]"
    # nested pairs are matched inside out; pairs of one kind, lone marks and sure marks stay
    nested = [{"【": 0.99}, {"[": 0.99}, {"a": 0.99}, {"】": 0.6, "]": 0.4}, {"】": 0.99}]
    assert _decode(nested, pairer) == "【[a]】"
    assert _decode([{"「": 0.6, "[": 0.4}, {"a": 0.99}, {"」": 0.6, "]": 0.4}], pairer) == "「a」"
    assert _decode([{"a": 0.99}, {"】": 0.6, "]": 0.4}], pairer) == "a】"
    assert _decode([{"[": 0.9999}, {"a": 0.99}, {"】": 0.9999}], pairer) == "[a】"
