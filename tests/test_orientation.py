"""Page orientation: patch cutting, the decision rule, and the Reader turning a page upright and
mapping every polygon back to the page as given (tiny models; the shipped classifier in test_shipped)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from conftest import two_column_page
from shizi.config import OrientConfig
from shizi.models import load_model
from shizi.orientation import PageOrienter, decide, page_patches, turn_upright, upright_to_page
from tiny_models import make_tiny_orienter


@pytest.fixture(scope="session")
def tiny_orienter(tmp_path_factory) -> PageOrienter:
    return PageOrienter(load_model(make_tiny_orienter(tmp_path_factory.mktemp("ori")), task="orientation"))


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_upright_points_map_back_to_the_page_as_given(rotation):
    rng = np.random.default_rng(rotation)
    page = np.zeros((30, 50), np.uint8)
    for x, y in rng.integers(0, [50, 30], size=(5, 2)):
        page[:] = 0
        page[y, x] = 1
        up = turn_upright(page, rotation)
        assert up.shape == ((50, 30) if rotation in (90, 270) else (30, 50))
        (uy, ux), = np.argwhere(up == 1)
        back = upright_to_page(np.array([[ux + 0.5, uy + 0.5]]), rotation, 50, 30)
        assert np.allclose(back, [[x + 0.5, y + 0.5]])


def test_patches_come_from_the_text_and_do_not_overlap():
    page = np.full((1000, 800, 3), 255, np.uint8)
    page[600:900, 450:750] = np.where(np.random.default_rng(0).random((300, 300, 1)) < 0.3, 0, 255)
    cfg = OrientConfig(side=1000, patch=100, patches=6)
    patches = page_patches(page, cfg)
    assert patches.shape == (6, 100, 100)
    assert all(p.std() > 50 for p in patches[:4])  # textured: cut from the inked corner
    tiny = page_patches(page[:40, :600], OrientConfig(side=300, patch=100, patches=3))
    assert tiny.shape[1:] == (100, 100)  # a page smaller than a patch is padded


def test_the_page_turns_only_when_the_mean_is_confident(tiny_orienter):
    page = np.full((300, 400, 3), 255, np.uint8)
    o = tiny_orienter.orient(page)
    assert o.rotation == 90 and o.confidence > 0.95 and abs(sum(o.probs) - 1) < 1e-5
    assert tiny_orienter.with_config(min_confidence=0.99).orient(page).rotation == 0
    rows = np.array([[0.1, 0.6, 0.2, 0.1], [0.4, 0.1, 0.45, 0.05], [0.2, 0.1, 0.1, 0.6]])
    assert decide(rows, 0.5).tolist() == [1, 0, 3]  # the middle page's 180 is too unsure: as given


def test_reader_reads_a_turned_page_upright_in_its_own_coordinates(tiny_models, tiny_orienter):
    from shizi.document import Document
    from shizi.export import to_hocr
    from shizi.reader import Reader

    det, rec = tiny_models
    upright, _ = two_column_page()
    turned = np.ascontiguousarray(np.rot90(upright, 1))  # text running bottom to top: turn 90 to read
    plain = Reader(det, rec, orient=False).read(upright).pages[0]
    page = Reader(det, rec, orient=tiny_orienter).read(turned).pages[0]
    assert page.rotation == 90 and (page.width, page.height) == (turned.shape[1], turned.shape[0])
    assert page.text() == plain.text() and len(page.lines) == 7
    h, w = turned.shape[:2]
    ink = turned.min(axis=2) < 128
    for got, want in zip(page.lines, plain.lines, strict=True):
        assert np.allclose(got.polygon, upright_to_page(np.array(want.polygon), 90, w, h), atol=0.01)
        mask = np.zeros((h, w), np.uint8)
        cv2.fillPoly(mask, [np.round(got.polygon).astype(np.int32)], 1)
        assert (ink & (mask > 0)).sum() > 0.3 * mask.sum()  # the polygon lies on the line's ink
        for c, wc in zip(got.chars, want.chars, strict=True):  # characters too
            assert np.allclose(c.polygon, upright_to_page(np.array(wc.polygon), 90, w, h), atol=0.01)
    again = Document.from_dict(Document([page]).to_dict()).pages[0]
    assert again.rotation == 90
    assert "textangle 90" in to_hocr(Document([page], source="t.png"))
    assert Reader(det, rec, orient=False).orienter is None
