"""Detector training data: crops of synthetic pages (deterministic per seed and index) with DB or CTPN
targets.

Sample ``i`` is crop ``i % crops_per_page`` of page ``i // crops_per_page``; the page is rescaled the way
the runtime rescales (long side capped at ``max_side``) times a random jitter, then cropped to
``size`` x ``size`` (mostly around text). The worker keeps the last page, so consecutive indices reuse it.
"""

from __future__ import annotations

import math
import random

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from shizi.config import IMAGENET_MEAN, IMAGENET_STD
from shizi.geometry import offset_polygon
from shizi.train.nets.detection import CTPN_ANCHORS

MEAN, STD = IMAGENET_MEAN, IMAGENET_STD  # the detectors' input normalisation (shizi.config)
SHRINK = 0.4
THRESH_MIN, THRESH_MAX = 0.3, 0.7
CTPN_STRIDE = 16


def normalize(img: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).float().div_(255.0)
    return (x - torch.tensor(MEAN).view(3, 1, 1)) / torch.tensor(STD).view(3, 1, 1)


def _area_perimeter(q: np.ndarray) -> tuple[float, float]:
    return abs(cv2.contourArea(q.astype(np.float32))), cv2.arcLength(q.astype(np.float32), True)


def _seg_dist(xs: np.ndarray, ys: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ab = b - a
    den = float(ab @ ab) or 1e-6
    t = np.clip(((xs - a[0]) * ab[0] + (ys - a[1]) * ab[1]) / den, 0, 1)
    return np.hypot(xs - (a[0] + t * ab[0]), ys - (a[1] + t * ab[1]))


def db_targets(quads: list[np.ndarray], h: int, w: int, min_h: float = 4.0):
    """DB targets: shrunk text map, its mask (0 = ignore), threshold map and its mask."""
    gt = np.zeros((h, w), np.float32)
    mask = np.ones((h, w), np.float32)
    th = np.zeros((h, w), np.float32)
    th_mask = np.zeros((h, w), np.float32)
    for q in quads:
        area, peri = _area_perimeter(q)
        side = min(np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[3] - q[0]))
        if area < 1 or peri < 1:
            continue
        if side < min_h:
            cv2.fillPoly(mask, [q.round().astype(np.int32)], 0.0)
            continue
        d = area * (1 - SHRINK**2) / peri
        shrunk = offset_polygon(q, -d)
        if shrunk is None or len(shrunk) < 3:
            cv2.fillPoly(mask, [q.round().astype(np.int32)], 0.0)
            continue
        cv2.fillPoly(gt, [shrunk.round().astype(np.int32)], 1.0)
        grown = offset_polygon(q, d)
        if grown is None:
            continue
        cv2.fillPoly(th_mask, [grown.round().astype(np.int32)], 1.0)
        x0, y0 = np.floor(grown.min(0)).astype(int)
        x1, y1 = np.ceil(grown.max(0)).astype(int)
        cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, w - 1), min(y1, h - 1)
        if cx1 < cx0 or cy1 < cy0:
            continue
        ys, xs = np.mgrid[cy0 : cy1 + 1, cx0 : cx1 + 1].astype(np.float32)
        dist = np.full(xs.shape, np.inf, np.float32)
        for k in range(len(q)):
            dist = np.minimum(dist, _seg_dist(xs, ys, q[k], q[(k + 1) % len(q)]))
        val = 1 - np.clip(dist / d, 0, 1)
        region = th[cy0 : cy1 + 1, cx0 : cx1 + 1]
        np.maximum(region, val, out=region)
    th = th * (THRESH_MAX - THRESH_MIN) + THRESH_MIN
    return gt, mask, th, th_mask


def _column_extent(q: np.ndarray, x: float) -> tuple[float, float] | None:
    """Top and bottom y where the vertical line at ``x`` crosses quad ``q``."""
    ys = []
    for k in range(4):
        a, b = q[k], q[(k + 1) % 4]
        if (a[0] - x) * (b[0] - x) <= 0 and a[0] != b[0]:
            t = (x - a[0]) / (b[0] - a[0])
            ys.append(a[1] + t * (b[1] - a[1]))
    if len(ys) < 2:
        return None
    return min(ys), max(ys)


def ctpn_targets(quads: list[np.ndarray], h: int, w: int, anchors=CTPN_ANCHORS):
    """CTPN targets on the stride-16 grid: label (1 text, 0 background, -1 ignore) per anchor, (dy, dh)
    regression targets with their mask, side-refinement targets with their mask."""
    s = CTPN_STRIDE
    gh, gw, k = h // s, w // s, len(anchors)
    ah = np.asarray(anchors, np.float32)
    label = np.zeros((gh, gw, k), np.float32)
    best_iou = np.zeros((gh, gw, k), np.float32)
    regr = np.zeros((gh, gw, k, 2), np.float32)
    regr_mask = np.zeros((gh, gw, k), np.float32)
    side = np.zeros((gh, gw, k), np.float32)
    side_mask = np.zeros((gh, gw, k), np.float32)
    cy_a = (np.arange(gh, dtype=np.float32) * s + s / 2)[:, None]  # gh,1
    top_a, bot_a = cy_a - ah[None] / 2, cy_a + ah[None] / 2  # gh,k
    for q in quads:
        e1, e2 = np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[3] - q[0])
        xmin, xmax = float(q[:, 0].min()), float(q[:, 0].max())
        if e1 < e2 * 1.2 or e2 < 6:  # vertical or tiny lines: leave to the ignore label
            c0, c1 = max(0, int(xmin // s)), min(gw - 1, int(xmax // s))
            r0, r1 = max(0, int(q[:, 1].min() // s)), min(gh - 1, int(q[:, 1].max() // s))
            if c1 >= c0 and r1 >= r0:
                label[r0 : r1 + 1, c0 : c1 + 1] = np.where(label[r0 : r1 + 1, c0 : c1 + 1] == 1, 1, -1)
            continue
        for c in range(max(0, int(math.floor(xmin / s))), min(gw, int(math.ceil(xmax / s)))):
            cx = c * s + s / 2
            ext = _column_extent(q, min(max(cx, xmin + 1e-3), xmax - 1e-3))
            if ext is None:
                continue
            t, b = ext
            gh_ = b - t
            if gh_ < 4:
                continue
            inter = np.clip(np.minimum(bot_a, b) - np.maximum(top_a, t), 0, None)
            iou = inter / (ah[None] + gh_ - inter)  # gh,k
            col_best = best_iou[:, c]
            upd = iou > col_best
            col_best[upd] = iou[upd]
            pos = iou >= 0.7
            r, kk = np.unravel_index(np.argmax(iou), iou.shape)
            pos[r, kk] = iou[r, kk] > 0.3
            if not pos.any():
                continue
            label[:, c][pos] = 1
            gcy = (t + b) / 2
            rr, ks = np.nonzero(pos)
            regr[rr, c, ks, 0] = (gcy - cy_a[rr, 0]) / ah[ks]
            regr[rr, c, ks, 1] = np.log(gh_ / ah[ks])
            regr_mask[rr, c, ks] = 1
            if cx - xmin < 2 * s or xmax - cx < 2 * s:
                x_side = xmin if cx - xmin < xmax - cx else xmax
                side[rr, c, ks] = (x_side - cx) / s
                side_mask[rr, c, ks] = 1
    neg_ignore = (label == 0) & (best_iou >= 0.5)
    label[neg_ignore] = -1
    return label, regr, regr_mask, side, side_mask


class DetPages(Dataset):
    """Crops of synthetic pages with targets for ``arch`` (``db`` or ``ctpn``)."""

    def __init__(self, seed: int, arch: str = "db", size: int = 384, crops_per_page: int = 4,
                 max_side: int = 1280, length: int = 10**9):
        self.seed, self.arch, self.size, self.cpp, self.max_side, self.length = (
            seed, arch, size, crops_per_page, max_side, length)
        self._cache: tuple[int, np.ndarray, list[np.ndarray]] | None = None

    def __len__(self) -> int:
        return self.length

    def page(self, p: int) -> tuple[np.ndarray, list[np.ndarray]]:
        if self._cache is not None and self._cache[0] == p:
            return self._cache[1], self._cache[2]
        from shizi.synth.pages import render_page

        page = render_page(self.seed, p)
        img = page.image
        h, w = img.shape[:2]
        rng = random.Random(self.seed * 31 + p)
        s = min(1.0, self.max_side / max(h, w)) * math.exp(rng.uniform(math.log(0.6), math.log(1.3)))
        img = cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))),
                         interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
        quads = [q * s for q in page.quads]
        self._cache = (p, img, quads)
        return img, quads

    def crop(self, i: int) -> tuple[np.ndarray, list[np.ndarray]]:
        img, quads = self.page(i // self.cpp)
        rng = random.Random(self.seed * 1_000_003 + i)
        h, w = img.shape[:2]
        S = self.size
        if quads and rng.random() < 0.85:
            q = rng.choice(quads)
            cx, cy = q[:, 0].mean() + rng.uniform(-S / 3, S / 3), q[:, 1].mean() + rng.uniform(-S / 3, S / 3)
            x0, y0 = int(cx - S / 2), int(cy - S / 2)
        else:
            x0, y0 = rng.randint(0, max(0, w - S)), rng.randint(0, max(0, h - S))
        x0 = min(max(0, x0), max(0, w - S))
        y0 = min(max(0, y0), max(0, h - S))
        out = np.empty((S, S, 3), np.uint8)
        out[:] = img[min(2, h - 1), min(2, w - 1)]
        part = img[y0 : y0 + S, x0 : x0 + S]
        out[: part.shape[0], : part.shape[1]] = part
        sh = np.float32([x0, y0])
        kept = []
        for q in quads:
            qq = q - sh
            if qq[:, 0].max() < 0 or qq[:, 1].max() < 0 or qq[:, 0].min() >= S or qq[:, 1].min() >= S:
                continue
            kept.append(qq.astype(np.float32))
        return out, kept

    def __getitem__(self, i: int):
        img, quads = self.crop(i)
        x = normalize(img)
        S = self.size
        if self.arch.startswith("ctpn"):
            t = ctpn_targets(quads, S, S)
        else:
            t = db_targets(quads, S, S)
        return (x, *[torch.from_numpy(a) for a in t])


def collate(batch):
    return tuple(torch.stack(parts) for parts in zip(*batch, strict=False))
