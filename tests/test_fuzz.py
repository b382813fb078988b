"""Fuzz: mutated PNG / JPEG / WebP / BMP / TIFF / PDF bytes through Reader.read and every exporter give
a result or an InputError, nothing else, with bounded memory. A few hundred cases here (fixed by
``derandomize``); ``bench/fuzz.py`` runs thousands."""

from __future__ import annotations

import resource

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzzing import OPS, mutate, read_and_export, seeds

SEEDS = seeds()

edit = st.tuples(st.sampled_from(OPS), st.floats(0, 1, allow_nan=False), st.integers(0, 2**32 - 1))


@pytest.fixture(scope="module")
def fuzz_reader(tiny_models):
    from shizi.reader import Reader

    det, rec = tiny_models
    # limits small enough that a mutated header asking for a huge page is refused, not decoded
    return Reader(detector=det, recognizer=rec, orient=False, max_pixels=4_000_000, max_pages=8)


def test_the_seeds_read(fuzz_reader):
    kinds = {fmt: read_and_export(fuzz_reader, data) for fmt, data in SEEDS.items()}
    assert kinds == dict.fromkeys(SEEDS, "ok")


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(fmt=st.sampled_from(sorted(SEEDS)), edits=st.lists(edit, min_size=1, max_size=4))
def test_mutated_inputs_give_a_result_or_an_input_error(fuzz_reader, fmt, edits):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    read_and_export(fuzz_reader, mutate(SEEDS[fmt], edits))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 400, f"peak memory grew {grown_mb:.0f} MB on {fmt} {edits}"
