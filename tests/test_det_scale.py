"""The DB detector's text-scale pass and tiles (tiny detector: its probability map is a blurred ink mask)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import draw_line
from shizi.detection import load_detector, page_tensor
from shizi.detection.db import _tile_starts, median_line_height

CASES = [(100, 256, 64), (1000, 256, 64), (1024, 256, 32), (3000, 1024, 99)]


@pytest.mark.parametrize("n,tile,overlap", CASES)
def test_tiles_cover_the_page_and_overlap(n, tile, overlap):
    starts = _tile_starts(n, tile, overlap)
    assert starts[0] == 0 and starts[-1] + min(tile, n) == n
    assert all(b - a <= tile - overlap for a, b in zip(starts, starts[1:], strict=False))


def test_stitched_tiles_give_the_whole_page_map(tiny_models):
    det = load_detector(tiny_models[0]).with_config(tile=256, tile_overlap=64)
    page = np.full((608, 896, 3), 255, np.uint8)
    for k in range(8):
        draw_line(page, 20 + 37 * k, 30 + 70 * k, 6 + k % 3, h=18, piece_w=40, gap=14)
    x, _, _ = page_tensor(page, 4096, det.config.mean, det.config.std, 1.0)
    whole = det.run(x)
    tiled = det._tiled_prob(page)
    assert tiled.shape == whole.shape
    assert np.allclose(tiled, whole, atol=1e-5)  # each pixel from a tile it lies well inside


def test_small_text_is_detected_again_at_the_line_height(tiny_models, monkeypatch):
    page = np.full((240, 600, 3), 255, np.uint8)
    for k in range(4):
        draw_line(page, 20, 20 + 50 * k, 5, h=6, piece_w=14, gap=4)  # 6 px lines: small print
    det = load_detector(tiny_models[0]).with_config(line_height=24.0)
    seen = median_line_height(det.detect_at(page, 1.0).polygons)
    scales: list[float] = []
    detect_at = det.detect_at
    monkeypatch.setattr(det, "detect_at", lambda img, s: scales.append(s) or detect_at(img, s))
    found = det.detect(page)
    assert scales[0] == 1.0 and scales[1] == pytest.approx(min(24.0 / seen, det.config.max_upscale))
    assert len(found.polygons) == 4
    for q in found.polygons:  # back in page pixels, on the drawn lines
        assert q[:, 0].min() < 30 and q[:, 0].max() > 100 and q[:, 1].max() - q[:, 1].min() < 20
    scales.clear()
    assert len(det.with_config(line_height=seen).detect(page).polygons) == 4 and scales == [1.0]  # one pass


def test_the_second_pass_stays_within_the_pixel_budget(tiny_models, monkeypatch):
    page = np.full((240, 600, 3), 255, np.uint8)
    for k in range(4):
        draw_line(page, 20, 20 + 50 * k, 5, h=6, piece_w=14, gap=4)
    det = load_detector(tiny_models[0]).with_config(line_height=24.0, max_scaled_pixels=240 * 600 * 4)
    scales: list[float] = []
    detect_at = det.detect_at
    monkeypatch.setattr(det, "detect_at", lambda img, s: scales.append(s) or detect_at(img, s))
    det.detect(page)
    assert scales == [1.0, pytest.approx(2.0)]  # 24 / 9 px would be 2.7x; the budget allows 2x


def test_further_passes_follow_the_estimate_in_one_direction(tiny_models, monkeypatch):
    from shizi.detection import Detections

    det = load_detector(tiny_models[0]).with_config(line_height=24.0, max_upscale=10.0)
    page = np.full((200, 400, 3), 255, np.uint8)

    def run(heights: dict[float, float], passes: int) -> list[float]:
        """Scales ``detect`` asks for when the lines found at scale s are ``heights[s]`` page px tall."""
        scales: list[float] = []

        def fake(img, s):
            scales.append(s)
            h = heights[round(s, 6)]
            return Detections([np.float32([[10, 10], [200, 10], [200, 10 + h], [10, 10 + h]])], [1.0])

        monkeypatch.setattr(det, "detect_at", fake)
        det.config = det.config.replace(scale_passes=passes)
        det.detect(page)
        return scales

    # 6 px lines at scale 1 -> scale 4; there only 3 px ones are found (smaller print came into view)
    assert run({1.0: 6.0, 4.0: 3.0, 8.0: 3.0}, passes=2) == [1.0, 4.0, 8.0]
    assert run({1.0: 6.0, 4.0: 3.0}, passes=1) == [1.0, 4.0]
    # the estimate turning back (12 px lines at scale 4 would ask for 2) ends the passes
    assert run({1.0: 6.0, 4.0: 12.0}, passes=2) == [1.0, 4.0]
