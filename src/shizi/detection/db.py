"""DB (differentiable binarization) detector runtime: ONNX inference and post-processing.

Post-processing follows the DB paper's inference recipe: threshold the shrunk-text probability
map, take contours, score each box by the mean probability inside it, drop weak/small boxes, and
expand ("unclip") each polygon with pyclipper, then take the minimum-area rectangle of the expanded
polygon. Between scoring and unclipping, :mod:`shizi.detection.lines` joins the pieces of one line.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..config import DBConfig
from ..geometry import offset_polygon, order_quad
from . import Detections, OnnxDetector, model_size, page_tensor
from .lines import Candidate, group_pieces, line_box


class DBPostProcess:
    """Probability map → line quads (the module docstring's recipe), with :class:`~shizi.config.DBConfig`'s
    settings; needs no model, so tests and benchmarks build it directly."""

    def __init__(self, config: DBConfig | None = None) -> None:
        self.config = config or DBConfig()

    def __call__(self, prob: np.ndarray, sx: float = 1.0, sy: float = 1.0, width: int | None = None,
                 height: int | None = None) -> Detections:
        """Quads in page pixels: model-resolution ``prob`` scaled by ``sx``, ``sy`` and clipped to the
        page (``width`` x ``height``, default the scaled map)."""
        if width is None:
            width = int(round(prob.shape[1] * sx))
        if height is None:
            height = int(round(prob.shape[0] * sy))
        return self.postprocess(prob, sx, sy, width, height)

    def postprocess(self, prob: np.ndarray, sx: float, sy: float, width: int, height: int) -> Detections:
        """Probability map (model resolution) → quads in page pixels (scale ``sx``, ``sy``)."""
        bitmap = (prob > self.config.thresh).astype(np.uint8)
        contours, _ = cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        cands: list[Candidate] = []
        for cnt in contours[: self.config.max_candidates]:
            if len(cnt) < 3:
                continue
            rect = cv2.minAreaRect(cnt)
            if min(rect[1]) < self.config.min_size:
                continue
            pts = cnt.reshape(-1, 2)
            score = self._box_score(prob, pts)
            if score < self.config.box_thresh:
                continue
            cands.append((pts.astype(np.float32), score, max(1.0, rect[1][0] * rect[1][1])))
        groups = group_pieces(cands, prob, self.config, self._unclip_distance)
        polys: list[np.ndarray] = []
        scores: list[float] = []
        for group in groups:
            rect2 = line_box(group, self.config, self._unclip)
            if rect2 is None or min(rect2[1]) < self.config.min_size + 2:
                continue
            quad = order_quad(cv2.boxPoints(rect2))
            quad[:, 0] = np.clip(quad[:, 0] * sx, 0, width - 1)
            quad[:, 1] = np.clip(quad[:, 1] * sy, 0, height - 1)
            polys.append(quad)
            area = sum(a for _, _, a in group)
            scores.append(float(sum(s * a for _, s, a in group) / area))
        return Detections(polys, scores)

    @staticmethod
    def _box_score(prob: np.ndarray, pts: np.ndarray) -> float:
        h, w = prob.shape
        x0, y0 = np.clip(pts.min(0), 0, [w - 1, h - 1]).astype(int)
        x1, y1 = np.clip(pts.max(0), 0, [w - 1, h - 1]).astype(int)
        mask = np.zeros((y1 - y0 + 1, x1 - x0 + 1), dtype=np.uint8)
        cv2.fillPoly(mask, [(pts - [x0, y0]).astype(np.int32)], 1)
        return float(cv2.mean(prob[y0 : y1 + 1, x0 : x1 + 1], mask)[0])

    def _unclip_distance(self, box: np.ndarray) -> float:
        area = cv2.contourArea(box.astype(np.float32))
        length = cv2.arcLength(box.astype(np.float32), True)
        if length <= 0:
            return 0.0
        if self.config.shrink_ratio is None:
            return area * self.config.unclip_ratio / length
        w = float(np.linalg.norm(box[1] - box[0]))
        h = float(np.linalg.norm(box[2] - box[1]))
        k = 1.0 - self.config.shrink_ratio**2
        a, b, c = 8 - 4 * k, 2 * (1 - k) * (w + h), -k * w * h
        d = (-b + np.sqrt(b * b - 4 * a * c)) / (2 * a)
        return float(d) * self.config.unclip_ratio

    def _unclip(self, box: np.ndarray) -> np.ndarray | None:
        distance = self._unclip_distance(box)
        if distance <= 0:
            return None
        return offset_polygon(box, distance)


class DBDetector(OnnxDetector):
    """Runs a DB ONNX model (input ``image`` [N,3,H,W], output ``prob`` [N,1,H,W]); settings from the
    model's config (:class:`~shizi.config.DBConfig`), or ``config`` when given."""

    config_class = DBConfig

    post_class = DBPostProcess

    def run(self, x: np.ndarray) -> np.ndarray:
        """The network's probability map [H, W] (model resolution) for a preprocessed page."""
        names = ["prob"] if "prob" in self.output_names else self.output_names[:1]
        prob = self.session.run(names, {self.input_name: x})[0]
        return np.asarray(prob, dtype=np.float32).reshape(prob.shape[-2], prob.shape[-1])

    def detect(self, image: np.ndarray) -> Detections:
        """Line quads in page pixels: one pass at ``max_side``, then, with ``line_height`` set and the
        lines found much smaller or larger than that, a pass at the scale that brings their median
        height there (tiled when the page is large at that scale); up to ``scale_passes`` such passes,
        each estimated from the one before, all in one direction (small print on a huge page is
        only found once the page is enlarged enough to see it)."""
        h, w = image.shape[:2]
        c = self.config
        scale = min(1.0, c.max_side / max(h, w))
        found = self.detect_at(image, scale)
        direction = 0.0
        for _ in range(c.scale_passes if c.line_height > 0 else 0):
            seen = median_line_height(found.polygons) * scale  # model pixels
            if seen <= 0 or 1 / c.line_height_tolerance <= seen / c.line_height <= c.line_height_tolerance:
                break
            better = min(scale * c.line_height / seen, c.max_upscale, (c.max_scaled_pixels / (h * w)) ** 0.5)
            step = better - scale
            if abs(step) <= 0.05 * scale or step * direction < 0:
                break
            direction, scale = step, better
            found = self.detect_at(image, scale)
        return found

    def detect_at(self, image: np.ndarray, scale: float) -> Detections:
        """Detect at ``scale`` (model pixels per page pixel); pages above ``tile`` pixels at that scale are
        run in overlapping tiles whose probability maps are stitched before post-processing."""
        h, w = image.shape[:2]
        nh, nw = model_size(h, w, scale)
        if max(nh, nw) <= max(self.config.max_side, self.config.tile):
            x, sx, sy = page_tensor(image, self.config.max_side, self.config.mean, self.config.std, scale)
            return self.post(self.run(x), sx, sy, w, h)
        interp = cv2.INTER_AREA if nw < w else cv2.INTER_LINEAR
        resized = cv2.resize(image, (nw, nh), interpolation=interp)
        return self.post(self._tiled_prob(resized), w / nw, h / nh, w, h)

    def _tiled_prob(self, image: np.ndarray) -> np.ndarray:
        """The probability map of ``image`` (already at model scale) from overlapping tiles: each pixel
        taken from the tile in which it lies furthest from a tile edge inside the page."""
        t, o = self.config.tile, self.config.tile_overlap
        h, w = image.shape[:2]
        prob = np.zeros((h, w), np.float32)
        ys = _tile_starts(h, t, o)
        xs = _tile_starts(w, t, o)
        for i, y in enumerate(ys):
            for j, x in enumerate(xs):
                tile = image[y : y + t, x : x + t]
                th, tw = tile.shape[:2]
                padded = np.full((_up32(th), _up32(tw), 3), 255, np.uint8)  # white to a multiple of 32
                padded[:th, :tw] = tile
                tx, _, _ = page_tensor(padded, t, self.config.mean, self.config.std, 1.0)
                p = self.run(tx)[:th, :tw]
                # the part of this tile that is nearer its own centre than any neighbour's
                y0 = y if i == 0 else y + o // 2
                x0 = x if j == 0 else x + o // 2
                y1 = y + tile.shape[0] if i == len(ys) - 1 else ys[i + 1] + o // 2
                x1 = x + tile.shape[1] if j == len(xs) - 1 else xs[j + 1] + o // 2
                prob[y0:y1, x0:x1] = p[y0 - y : y1 - y, x0 - x : x1 - x]
        return prob


def _up32(n: int) -> int:
    return max(32, -(-n // 32) * 32)


def _tile_starts(n: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles ``tile`` long overlapping by ``overlap`` that cover ``n``."""
    if n <= tile:
        return [0]
    step = tile - overlap
    starts = list(range(0, n - tile, step))
    return starts + [n - tile]


def median_line_height(polygons: list[np.ndarray]) -> float:
    """Median thickness (short side of the minimum-area rectangle) of the line-shaped polygons (at least
    twice as long as thick); 0 when there are none."""
    heights = []
    for p in polygons:
        (_, _), (a, b), _ = cv2.minAreaRect(np.asarray(p, np.float32).reshape(-1, 2))
        if max(a, b) >= 2 * min(a, b) > 0:
            heights.append(min(a, b))
    return float(np.median(heights)) if heights else 0.0
