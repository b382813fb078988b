"""Detector training side: synthetic pages, targets, tiny training runs, exact resume, ONNX export, and
the CTPN line builder. CPU only, a few seconds each."""

from __future__ import annotations

import argparse
import json
import random

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # trains with torch
torch = pytest.importorskip("torch")

from shizi.detection.ctpn import build_lines, fit_line, nms  # noqa: E402


def _det_args(tmp_path, arch, steps, **kw):
    from shizi.train import det

    p = argparse.ArgumentParser()
    det.add_args(p)
    args = p.parse_args(["--arch", arch, "--out", str(tmp_path), "--steps", str(steps), "--batch", "2",
                         "--size", "128", "--crops-per-page", "4", "--workers", "0", "--ckpt-every", "1",
                         "--log-every", "1", "--warmup", "2", "--threads", "1"])
    for k, v in kw.items():
        setattr(args, k, v)
    return args


def test_page_quads_lie_on_drawn_text():
    from shizi.synth import pages
    from shizi.synth.corpus import TextSampler

    rng = random.Random(3)
    s = TextSampler(rng)
    cv = pages._Canvas(700, 500, (255, 255, 255))
    face, latin = pages._faces(rng)
    fonts = pages._fonts_for_height(face, latin, 30)
    y = 30.0
    while len(cv.quads) < 3:
        y = pages._paragraph(cv, rng, s, fonts, 40, y, 600, (0, 0, 0), 36, 2, 470) + 10
    assert len(cv.quads) >= 3
    ink = np.asarray(cv.img.convert("L")) < 128
    inside = np.zeros_like(ink)
    import cv2

    for q, text in zip(cv.quads, cv.texts, strict=True):
        m = np.zeros(ink.shape, np.uint8)
        cv2.fillPoly(m, [q.round().astype(np.int32)], 1)
        box_ink = ink & (m > 0)
        assert box_ink.sum() > 0.02 * m.sum()  # the box holds text
        cols = np.nonzero(box_ink.any(0))[0]
        h = q[2, 1] - q[0, 1]
        # the box runs from the first glyph's advance to the last one's (a typographic line box, as the
        # evaluation sets label lines): the ink starts within the first advance and ends within the last
        # (punctuation such as "，" inks only part of its advance), give or take a pixel of anti-aliasing
        tol = 0.1 * h + 1
        first, last = fonts.width(text[0]), fonts.width(text[-1])
        assert q[0, 0] - tol <= cols.min() <= q[0, 0] + first + tol, text
        assert q[1, 0] - last - tol <= cols.max() <= q[1, 0] + tol, text
        inside |= cv2.dilate(m, np.ones((3, 3), np.uint8)) > 0
    assert (ink & ~inside).sum() <= 0.002 * ink.sum()  # all the ink is in some line box


def test_render_page_deterministic_and_in_bounds():
    from shizi.synth.pages import render_page

    a, b = render_page(5, 2), render_page(5, 2)
    assert np.array_equal(a.image, b.image) and len(a.quads) == len(b.quads) > 0
    h, w = a.image.shape[:2]
    for q in a.quads:
        assert q.shape == (4, 2) and (q[:, 0] >= 0).all() and (q[:, 0] < w).all() and (q[:, 1] < h).all()
    scene = render_page(5, 3, kind="scene")
    assert scene.image.ndim == 3 and scene.image.dtype == np.uint8


def test_vertical_setting_turns_brackets_and_latin():
    from shizi.synth.fonts import FontPair, all_faces, upright_latin_faces
    from shizi.synth.pages import _Canvas

    face = next(f for f in all_faces() if f.cjk)
    latin = upright_latin_faces()
    fonts = FontPair(face, latin[0] if latin else None, 30)

    def ink_of(text):
        cv = _Canvas(80, 600, (255, 255, 255))
        bottom = cv.vtext(20, 10, text, fonts, (0, 0, 0), 36)
        ink = np.asarray(cv.img.convert("L")) < 128
        return ink, bottom, cv.quads[0]

    ink, bottom, quad = ink_of("（")
    ys, xs = np.nonzero(ink)
    assert np.ptp(xs) > 1.5 * np.ptp(ys)  # （ set as ︵: wide and flat
    ink, bottom, quad = ink_of("中 word 文")
    assert bottom - 10 > 2 * 36 + fonts.font_of("w").getlength(" word ") - 2  # the run laid along the column
    assert quad[2, 1] == pytest.approx(bottom) and (np.nonzero(ink)[0].max() < bottom + 2)


def test_db_targets_shrink_inside_quad():
    from shizi.train.det_data import db_targets

    q = np.float32([[10, 20], [110, 20], [110, 50], [10, 50]])
    gt, mask, th, th_mask = db_targets([q], 80, 128)
    ys, xs = np.nonzero(gt)
    assert ys.min() > 20 and ys.max() < 50 and xs.min() > 10 and xs.max() < 110
    assert 0.3 - 1e-6 <= th.min() and th.max() <= 0.7 + 1e-6 and th_mask.sum() > gt.sum()


def test_ctpn_targets_cover_line():
    from shizi.train.det_data import ctpn_targets

    q = np.float32([[20, 40], [200, 40], [200, 70], [20, 70]])
    label, regr, rmask, side, smask = ctpn_targets([q], 128, 256)
    cols = np.nonzero((label == 1).any(axis=(0, 2)))[0]
    assert cols.min() <= 2 and cols.max() >= 11
    assert smask.sum() > 0 and rmask.sum() == (label == 1).sum()


@pytest.mark.parametrize("arch", ["db", "ctpn"])
def test_tiny_training_loss_decreases(arch):
    from shizi.train.det import ctpn_loss, db_loss
    from shizi.train.det_data import DetPages, collate
    from shizi.train.nets.detection import build

    torch.manual_seed(0)
    torch.set_num_threads(1)
    data = DetPages(7, arch, size=128, crops_per_page=4)
    batch = collate([data[i] for i in range(2)])
    model = build(arch)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = db_loss if arch == "db" else ctpn_loss
    losses = []
    for _ in range(8):
        loss, _ = loss_fn(model(batch[0]), *batch[1:])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert min(losses[-3:]) < losses[0]


def test_resume_is_exact(tmp_path):
    from shizi.train import checkpoint, det

    det.train(_det_args(tmp_path / "a", "db", 3))
    det.train(_det_args(tmp_path / "b", "db", 3, until=2))
    det.train(_det_args(tmp_path / "b", "db", 3, resume=True))
    wa = checkpoint.load_weights(tmp_path / "a" / "weights.pt")
    wb = checkpoint.load_weights(tmp_path / "b" / "weights.pt")
    assert wa["step"] == wb["step"] == 3
    for k in wa["model"]:
        assert torch.equal(wa["model"][k], wb["model"][k]), k


@pytest.mark.parametrize("arch", ["db", "ctpn"])
def test_export_and_runtime(tmp_path, arch):
    from shizi.detection import load_detector
    from shizi.train import checkpoint
    from shizi.train.export import export_detector
    from shizi.train.nets.detection import CTPN_ANCHORS, build

    torch.manual_seed(0)
    model = build(arch)
    meta = {"arch": arch, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "max_side": 640,
            "anchor_heights": CTPN_ANCHORS, "stride": 16}
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    checkpoint.save(tmp_path / "run", model, meta, opt, checkpoint.warmup_cosine(opt, 1, 2), 0)
    onnx_path = export_detector(tmp_path / "run" / "weights.pt", tmp_path / f"det_{arch}")  # checks vs torch
    assert onnx_path.stat().st_size < 16 * 2**20
    det = load_detector(tmp_path / f"det_{arch}")
    img = np.full((300, 500, 3), 255, np.uint8)
    img[100:130, 50:400] = 0
    d = det.detect(img)
    assert len(d.polygons) == len(d.scores)

    # a re-export keeps a hand-tuned long side and name, and takes the normalisation from the weights
    cfg_path = tmp_path / f"det_{arch}" / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg_path.write_text(json.dumps({**cfg, "name": "mine", "max_side": 960, "mean": [0.0, 0.0, 0.0]}))
    export_detector(tmp_path / "run" / "weights.pt", tmp_path / f"det_{arch}")
    again = json.loads(cfg_path.read_text())
    assert (again["name"], again["max_side"], again["mean"]) == ("mine", 960, meta["mean"])


def _line_proposals(x0, x1, top, h, slope=0.0, step=16):
    boxes = []
    for x in range(x0, x1, step):
        y = top + slope * (x - x0)
        boxes.append([x, y, x + 15, y + h])
    return boxes


def test_ctpn_line_joining():
    b1 = _line_proposals(32, 320, 40, 30)  # a line
    b2 = _line_proposals(32, 200, 90, 28, slope=0.05)  # a slightly rising second line below
    b3 = _line_proposals(400, 560, 40, 30)  # same row as b1 but far right: a separate column
    boxes = np.float32(b1 + b2 + b3)
    scores = np.linspace(0.8, 0.99, len(boxes)).astype(np.float32)
    perm = np.random.default_rng(0).permutation(len(boxes))  # order must not matter
    lines = build_lines(boxes[perm], scores[perm], max_gap=1.5, min_v_overlap=0.6, min_size_sim=0.6,
                        width=16.0)
    groups = sorted(sorted(int(perm[i]) for i in ln) for ln in lines)
    n1, n2 = len(b1), len(b2)
    assert groups == [list(range(n1)), list(range(n1, n1 + n2)), list(range(n1 + n2, len(boxes)))]
    quad = fit_line(np.float32(b2))
    assert abs(quad[0, 0] - 32) < 1 and abs(quad[1, 0] - (32 + 16 * (len(b2) - 1) + 15)) < 1
    assert abs((quad[3, 1] - quad[0, 1]) - 28) < 1.5
    assert quad[1, 1] > quad[0, 1]  # slope kept
    boxes = np.float32([[0, 0, 15, 30], [0, 2, 15, 31], [0, 60, 15, 90]])
    keep = nms(boxes, np.float32([0.9, 0.8, 0.7]), 0.5)
    assert sorted(keep.tolist()) == [0, 2]


# the DB paper's post-processing with the training shrink inverted, every joining rule off
PLAIN_DB = {"thresh": 0.3, "box_thresh": 0.5, "shrink_ratio": 0.4, "unclip_ratio": 1.0, "merge_gap": 0.0,
            "gutter_gap": 99.0, "bridge_gap": 0.0, "bridge_thresh": 0.1,
            "join_boxes": "kernel"}


def _db_post(**cfg):
    """DB post-processing alone (no model): PLAIN_DB with ``cfg`` changed."""
    from shizi.config import DBConfig
    from shizi.detection.db import DBPostProcess

    return DBPostProcess(DBConfig(**{**PLAIN_DB, **cfg}))


def test_db_unclip_inverts_training_shrink():
    from shizi.metrics import polygon_iou
    from shizi.train.det_data import db_targets

    long_line = np.float32([[10, 20], [400, 20], [400, 50], [10, 50]])
    word = np.float32([[10, 20], [60, 20], [60, 50], [10, 50]])
    for q in (long_line, word):
        gt, _, _, _ = db_targets([q], 100, 420)
        det = _db_post()(gt, 1.0, 1.0, 420, 100)
        assert len(det.polygons) == 1
        assert polygon_iou(det.polygons[0].tolist(), q.tolist()) > 0.9


def test_db_merge_gap_joins_pieces_of_a_line():
    from shizi.train.det_data import db_targets

    line = np.float32([[10, 20], [400, 20], [400, 50], [10, 50]])
    gt, _, _, _ = db_targets([line, line + [0, 60]], 120, 420)
    gt[:, 150:170] = 0  # the kernel breaks at wide punctuation
    assert len(_db_post()(gt, 1.0, 1.0, 420, 120).polygons) == 4
    joined = _db_post(merge_gap=1.0)(gt, 1.0, 1.0, 420, 120)
    assert len(joined.polygons) == 2  # one per line: pieces joined along the line, not across lines



def test_db_bridges_a_long_gap_only_over_weak_marks():
    from shizi.train.det_data import db_targets

    line = np.float32([[10, 20], [600, 20], [600, 50], [10, 50]])
    # a paragraph of three lines, then, below, two columns split by a gutter
    quads = [line + [0, 40 * k] for k in range(3)] + [line + [0, 160 + 40 * k] for k in range(3)]
    gt, _, _, _ = db_targets(quads, 280, 620)
    gt[140:, 150:300] = 0  # the lower lines break at the gutter, 5 line heights wide
    middle = np.flatnonzero(gt[:, 500] > 0.5)
    middle = middle[(middle > 60) & (middle < 100)]
    gt[middle[0] : middle[-1] + 1, 150:300] = 0  # the paragraph's middle line breaks there too ...
    for x in range(160, 300, 25):  # ... where it holds faint marks (sparse punctuation)
        gt[middle[0] : middle[-1] + 1, x : x + 8] = 0.2
    post = _db_post(merge_gap=1.0)
    assert len(post(gt, 1.0, 1.0, 620, 280).polygons) == 10
    post = _db_post(merge_gap=1.0, bridge_gap=8.0, bridge_thresh=0.1)
    boxes = post(gt, 1.0, 1.0, 620, 280).polygons
    assert len(boxes) == 9  # the middle line joined over its marks; the gutter stays open
    wide = [q for q in boxes if q[:, 0].max() - q[:, 0].min() > 570]
    assert len(wide) == 3 and any(60 < q[:, 1].mean() < 100 for q in wide)
    post = _db_post(merge_gap=1.0, bridge_gap=8.0, bridge_thresh=0.3)  # marks this faint are not ink
    assert len(post(gt, 1.0, 1.0, 620, 280).polygons) == 10
    gt[middle[0] : middle[-1] + 1, 150:300] = 0.2  # a gap of even faint ink is bridged
    post = _db_post(merge_gap=1.0, bridge_gap=8.0, bridge_thresh=0.1)
    assert len(post(gt, 1.0, 1.0, 620, 280).polygons) == 9


def test_db_bridge_stops_at_a_gutter():
    from shizi.train.det_data import db_targets

    line = np.float32([[10, 20], [600, 20], [600, 50], [10, 50]])
    gt, _, _, _ = db_targets([line + [0, 40 * k] for k in range(5)], 240, 620)
    clean = gt.copy()
    band = np.flatnonzero(gt[:, 500] > 0.5)
    # every line fades out (150-250) before a blank gutter (250-300), as a column's ragged edge
    tails = gt[:, 150:250] > 0.5
    gt[:, 150:300] = 0
    gt[:, 150:250][tails] = 0.2
    post = _db_post(merge_gap=2.0, bridge_gap=8.0, bridge_thresh=0.1)
    assert len(post(gt, 1.0, 1.0, 620, 240).polygons) == 10
    # the same break in one line of a paragraph is bridged: the lines above and below run on
    middle = band[(band > 90) & (band < 130)]
    clean[middle[0] : middle[-1] + 1] = gt[middle[0] : middle[-1] + 1]
    assert len(post(clean, 1.0, 1.0, 620, 240).polygons) == 5
    # but not a gap that is mostly blank: faint ink over 150-195, then blank to the next word
    rows = slice(middle[0], middle[-1] + 1)
    clean[rows, 150:300] = 0
    clean[rows, 250:300] = gt[rows, 100:150]
    clean[rows, 150:195] = 0.2
    # merge_gap 3: a blank this long is within a plain join's reach
    post = _db_post(merge_gap=3.0, bridge_gap=8.0, bridge_thresh=0.1)
    assert len(post(clean, 1.0, 1.0, 620, 240).polygons) == 6


def test_db_joined_box_keeps_its_pieces_thickness():
    from shizi.train.det_data import db_targets

    left = np.float32([[10, 30], [200, 30], [200, 60], [10, 60]])
    gt, _, _, _ = db_targets([left, left + [220, 3]], 120, 440)  # the right piece sits 3 px lower
    post = _db_post(merge_gap=2.0)
    single = post(gt[:, :215], 1.0, 1.0, 215, 120).polygons[0]

    def thickness(q: np.ndarray) -> float:
        return float(np.linalg.norm(q[3] - q[0]))

    (loose,) = post(gt, 1.0, 1.0, 440, 120).polygons
    post = _db_post(merge_gap=2.0, join_boxes="pieces")
    (capped,) = post(gt, 1.0, 1.0, 440, 120).polygons
    assert thickness(loose) > thickness(single) + 3  # the offset pieces' union is thicker
    assert abs(thickness(capped) - thickness(single)) < 2
    assert capped[:, 0].max() - capped[:, 0].min() > 400


def test_db_gutter_rule_keeps_narrow_column_gutters_open():
    from shizi.train.det_data import db_targets

    left = np.float32([[10, 20], [300, 20], [300, 50], [10, 50]])
    right = left + [315, 0]  # a gutter of half an em: within merge_gap of the left column's lines
    gt, _, _, _ = db_targets([q + [0, 40 * k] for k in range(5) for q in (left, right)], 240, 640)
    para, _, _, _ = db_targets([left * [2.1, 1] + [0, 40 * k] for k in range(5)], 240, 640)
    band = np.flatnonzero(para[:, 200] > 0.5)
    middle = band[(band > 90) & (band < 130)]
    para[middle[0] : middle[-1] + 1, 300:315] = 0  # one line of a paragraph broken as wide
    plain = _db_post(merge_gap=2.0)
    assert len(plain(gt, 1.0, 1.0, 640, 240).polygons) == 5  # joined across the gutter
    post = _db_post(merge_gap=2.0, gutter_gap=0.3)
    assert len(post(gt, 1.0, 1.0, 640, 240).polygons) == 10
    assert len(post(para, 1.0, 1.0, 640, 240).polygons) == 5  # the paragraph's gap has ink around it


def test_db_vertical_columns_join_down_not_across():
    from shizi.train.det_data import db_targets

    col = np.float32([[300, 10], [330, 10], [330, 400], [300, 400]])  # one em 30 px, columns 15 px apart
    quads = [col - [45 * k, 0] for k in range(4)]
    gt, _, _, _ = db_targets(quads, 420, 360)
    gt[100:118] = 0  # every column breaks twice (wide punctuation), once into single glyphs
    gt[200:212] = 0
    gt[242:254] = 0
    post = _db_post(merge_gap=2.0)
    boxes = post(gt, 1.0, 1.0, 360, 420).polygons
    assert len(boxes) == 4
    for q in boxes:
        assert q[:, 1].max() - q[:, 1].min() > 370 and q[:, 0].max() - q[:, 0].min() < 45


def test_synthetic_photos_and_signs_keep_their_lines_in_frame():
    from shizi.synth.pages import render_page

    for kind in ("photo", "sign"):
        n = 0
        for i in range(4):
            p = render_page(11, i, kind=kind)
            h, w = p.image.shape[:2]
            assert p.kind == kind and len(p.quads) == len(p.texts)
            for q in p.quads:
                assert (q >= 0).all() and (q[:, 0] <= w - 1).all() and (q[:, 1] <= h - 1).all()
            n += len(p.quads)
        assert n > 0, kind


def test_ctpn_merge_fragments():
    from shizi.detection.ctpn import merge_fragments

    boxes = np.float32(_line_proposals(32, 160, 40, 30) + _line_proposals(224, 400, 41, 30)
                       + _line_proposals(32, 300, 90, 30))
    n1 = len(_line_proposals(32, 160, 40, 30))
    n2 = len(_line_proposals(224, 400, 41, 30))
    lines = [list(range(n1)), list(range(n1, n1 + n2)), list(range(n1 + n2, len(boxes)))]
    merged = merge_fragments(boxes, lines, max_gap=4.0)
    assert sorted(map(sorted, merged)) == [list(range(n1 + n2)), list(range(n1 + n2, len(boxes)))]
    assert len(merge_fragments(boxes, lines, max_gap=1.0)) == 3  # 64 px gap > 1 x height
