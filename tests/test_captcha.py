"""Captchas: the generators are deterministic per seed, and the shipped captcha reader reads them."""

from __future__ import annotations

import random

import numpy as np
import pytest

pytest.importorskip("captcha")

from shizi.synth.captcha import CHARSET, GENERATORS, captcha_text  # noqa: E402


@pytest.mark.parametrize("generator", sorted(GENERATORS))
def test_captchas_are_deterministic_per_seed(generator):
    render = GENERATORS[generator]
    text = captcha_text(random.Random(1))
    assert 4 <= len(text) <= 6 and set(text) <= set(CHARSET)
    a, b, c = (render(text, random.Random(s)) for s in (5, 5, 6))
    assert a.shape == (60, 160, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.std() > 10  # something is drawn


def test_training_samples_are_stretched_to_the_models_width_scale():
    from shizi.train.rec_data import SynthCodes

    ds = SynthCodes(3)
    img, text = ds[0]
    assert img.shape[0] == 32 and 1.8 * 85 - 2 <= img.shape[1] <= 2.2 * 85 + 2
    assert set(text) <= set(CHARSET) and np.array_equal(ds[0][0], SynthCodes(3)[0][0])


def test_shipped_captcha_reader_reads_captchas_it_never_saw(tmp_path):
    import shizi
    from shizi.cli import main
    from shizi.errors import ModelError

    try:
        reader = shizi.Reader(detector=False, recognizer="captcha_en", orient=False)
    except ModelError as e:
        pytest.skip(f"captcha_en not installed: {e}")
    assert reader.recognizer.correctors == [] and reader.recognizer.config.width_scale == 2.0
    right = 0
    for i in range(20):
        rng = random.Random(77_000 + i)
        text = captcha_text(rng)
        right += reader.read(GENERATORS["captcha"](text, rng), mode="line").pages[0].text().strip() == text
    assert right >= 17
    from PIL import Image

    rng = random.Random(5)
    text = captcha_text(rng)
    Image.fromarray(GENERATORS["captcha"](text, rng)).save(tmp_path / "c.png")
    assert main(["read", str(tmp_path / "c.png"), "--mode", "line", "--rec", "captcha_en",
                 "-o", str(tmp_path / "c.txt")]) == 0
    assert (tmp_path / "c.txt").read_text(encoding="utf-8").strip() == text
