from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tiny_models import make_tiny_models  # noqa: E402


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> tuple[Path, Path]:
    """(detector folder, recognizer folder) of the tiny test models."""
    return make_tiny_models(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def tiny_reader(tiny_models):
    from shizi.reader import Reader

    det, rec = tiny_models
    return Reader(detector=det, recognizer=rec, orient=False)  # pages as drawn (test_orientation turns them)


def draw_line(
    img: np.ndarray, x: int, y: int, pieces: int, h: int = 20, piece_w: int = 30, gap: int = 12
) -> None:
    """Draw a synthetic 'text line': ``pieces`` black bars separated by white gaps."""
    for k in range(pieces):
        x0 = x + k * (piece_w + gap)
        img[y : y + h, x0 : x0 + piece_w] = 0


#: the two columns of :func:`two_column_page`: left x and bars per line, top to bottom
TWO_COLUMNS = ((40, (8, 7, 8)), (350, (5, 6, 5)))


def two_column_page() -> tuple[np.ndarray, list[int]]:
    """A 640x420 page: a title (7 pieces) across, then two columns of 3 lines (rows side by side, each
    line filling most of its column); returns (image, pieces in reading order)."""
    img = np.full((420, 640, 3), 255, np.uint8)
    draw_line(img, 40, 30, 7, piece_w=60, gap=12)  # title, full width
    order = [7]
    for x, counts in TWO_COLUMNS:
        for row, n in enumerate(counts):
            draw_line(img, x, 110 + row * 45, n, piece_w=18, gap=12)
            order.append(n)
    return img, order


@pytest.fixture
def page_two_columns():
    return two_column_page()
