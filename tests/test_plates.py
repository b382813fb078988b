"""Licence plates: the plate grammar, plate-shaped lines, synthetic plates, and the plate mode."""

from __future__ import annotations

import random

import numpy as np
import pytest

from shizi.plates import PLATE, WIDEN, is_plate, plate_quads


def test_plate_numbers_follow_the_formats():
    assert is_plate("京A12345") and is_plate("沪B·D12345") and is_plate("粤B12345F")
    assert is_plate("京AB12C3")  # letters among the five
    assert not is_plate("京A1234")  # too short
    assert not is_plate("京I12345") and not is_plate("京AO2345")  # no I or O on plates
    assert not is_plate("A京12345") and not is_plate("京A123456")  # province first; green needs D/F
    assert PLATE.pattern.startswith("[京")


def test_only_plate_shaped_lines_are_kept_and_widened_to_the_plate():
    row = np.array([[100, 50], [300, 50], [300, 100], [100, 100]], float)  # 4:1
    square = np.array([[0, 0], [50, 0], [50, 50], [0, 50]], float)
    tall = row[:, ::-1].copy()  # 1:4, a column
    (quad,) = plate_quads([row, square])
    assert len(plate_quads([tall])) == 1  # the rectangle's own orientation decides, not the axes
    w = np.linalg.norm(quad[1] - quad[0])
    h = np.linalg.norm(quad[3] - quad[0])
    assert w == pytest.approx(200 * WIDEN[0], rel=1e-3) and h == pytest.approx(50 * WIDEN[1], rel=1e-3)
    assert quad[0][0] < quad[1][0] and quad[0][1] < quad[3][1]  # tl, tr, br, bl


def test_synthetic_plates_are_deterministic_and_follow_the_formats():
    pytest.importorskip("PIL")
    from shizi.synth.plates import CHARSET, plate_text, render_plate

    try:
        texts = [plate_text(random.Random(i)) for i in range(300)]
        img = render_plate(*texts[0], random.Random(3))
    except RuntimeError as e:  # no bold CJK face installed (scripts/setup.sh --train)
        pytest.skip(str(e))
    assert all(is_plate(t) and set(t) <= set(CHARSET) for t, _ in texts)
    assert {k for _, k in texts} == {"blue", "yellow", "green"}
    assert all(len(t) == 8 for t, k in texts if k == "green")
    assert np.array_equal(img, render_plate(*texts[0], random.Random(3))) and img.ndim == 3


def test_shipped_plate_reader_reads_plates_in_a_photo():
    import shizi
    from shizi.errors import ModelError

    try:
        from shizi.synth.plates import plate_text, render_plate

        reader = shizi.Reader(recognizer="plate_zh", orient=False)
        render_plate(*plate_text(random.Random(0)), random.Random(0))
    except (ModelError, RuntimeError) as e:
        pytest.skip(f"plate_zh or the plate fonts not installed: {e}")
    right = found = 0
    for i in range(12):
        rng = random.Random(55_000 + i)
        text, kind = plate_text(rng)
        plate = render_plate(text, kind, rng)
        right += reader.read(plate, mode="line").pages[0].text().strip() == text  # a crop the user gives
        photo = np.full((480, 640, 3), 110, np.uint8)
        h, w = min(plate.shape[0], 400), min(plate.shape[1], 560)
        photo[60 : 60 + h, 40 : 40 + w] = plate[:h, :w]
        page = reader.read(photo, mode="plate").pages[0]
        assert all(b.kind == "plate" and is_plate(b.lines[0].text) for b in page.blocks)
        # a plate-shaped image is a plate the user cropped: read whole in plate mode too
        found += text in [b.lines[0].text for b in reader.read(plate, mode="plate").pages[0].blocks]
    # plate_zh reads 0.60 of synthetic crops and finds 0.135 of plates in synthetic photos (bench/plates.py)
    assert right >= 4 and found >= 4
