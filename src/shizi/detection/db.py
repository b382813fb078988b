"""DB (differentiable binarization) detector runtime: ONNX inference and post-processing.

Post-processing follows the DB paper's inference recipe: threshold the shrunk-text probability
map, take contours, score each box by the mean probability inside it, drop weak/small boxes, and
expand ("unclip") each polygon by ``area * unclip_ratio / perimeter`` with pyclipper, then take
the minimum-area rectangle of the expanded polygon.
"""

from __future__ import annotations

import cv2
import numpy as np
import pyclipper

from ..models import ModelInfo
from . import Detections


def order_quad(pts: np.ndarray) -> np.ndarray:
    """Order 4 points clockwise starting at top-left (image coordinates, y down)."""
    pts = np.asarray(pts, dtype=np.float32).reshape(4, 2)
    idx = np.argsort(pts[:, 0], kind="stable")
    left, right = pts[idx[:2]], pts[idx[2:]]
    tl, bl = left[np.argsort(left[:, 1], kind="stable")]
    tr, br = right[np.argsort(right[:, 1], kind="stable")]
    return np.array([tl, tr, br, bl], dtype=np.float32)


class DBDetector:
    """Runs a DB ONNX model (input ``image`` [N,3,H,W], output ``prob`` [N,1,H,W])."""

    def __init__(self, info: ModelInfo, threads: int = 1) -> None:
        cfg = info.config
        self.info = info
        self.session = info.session(threads)
        self.input_name = self.session.get_inputs()[0].name
        outs = [o.name for o in self.session.get_outputs()]
        self.output_names = ["prob"] if "prob" in outs else outs[:1]
        self.mean = np.asarray(cfg.get("mean", [0.485, 0.456, 0.406]), dtype=np.float32).reshape(3, 1, 1)
        self.std = np.asarray(cfg.get("std", [0.229, 0.224, 0.225]), dtype=np.float32).reshape(3, 1, 1)
        self.max_side = int(cfg.get("max_side", 1536))
        self.thresh = float(cfg.get("thresh", 0.3))
        self.box_thresh = float(cfg.get("box_thresh", 0.6))
        self.unclip_ratio = float(cfg.get("unclip_ratio", 1.5))
        self.min_size = float(cfg.get("min_size", 3))
        self.max_candidates = int(cfg.get("max_candidates", 2000))

    def preprocess(self, image: np.ndarray) -> tuple[np.ndarray, float, float]:
        h, w = image.shape[:2]
        s = min(1.0, self.max_side / max(h, w))
        nh = max(32, int(round(h * s / 32)) * 32)
        nw = max(32, int(round(w * s / 32)) * 32)
        resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
        x = resized.astype(np.float32).transpose(2, 0, 1) / 255.0
        x = (x - self.mean) / self.std
        return x[None].astype(np.float32), w / nw, h / nh

    def detect(self, image: np.ndarray) -> Detections:
        x, sx, sy = self.preprocess(image)
        prob = self.session.run(self.output_names, {self.input_name: x})[0]
        prob = np.asarray(prob, dtype=np.float32).reshape(prob.shape[-2], prob.shape[-1])
        return self.postprocess(prob, sx, sy, image.shape[1], image.shape[0])

    def postprocess(self, prob: np.ndarray, sx: float, sy: float, width: int, height: int) -> Detections:
        """Probability map (model resolution) → quads in page pixels (scale ``sx``, ``sy``)."""
        bitmap = (prob > self.thresh).astype(np.uint8)
        contours, _ = cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        polys: list[np.ndarray] = []
        scores: list[float] = []
        for cnt in contours[: self.max_candidates]:
            if len(cnt) < 3:
                continue
            rect = cv2.minAreaRect(cnt)
            if min(rect[1]) < self.min_size:
                continue
            score = self._box_score(prob, cnt.reshape(-1, 2))
            if score < self.box_thresh:
                continue
            expanded = self._unclip(cv2.boxPoints(rect))
            if expanded is None:
                continue
            rect2 = cv2.minAreaRect(expanded)
            if min(rect2[1]) < self.min_size + 2:
                continue
            quad = order_quad(cv2.boxPoints(rect2))
            quad[:, 0] = np.clip(quad[:, 0] * sx, 0, width - 1)
            quad[:, 1] = np.clip(quad[:, 1] * sy, 0, height - 1)
            polys.append(quad)
            scores.append(float(score))
        return Detections(polys, scores)

    @staticmethod
    def _box_score(prob: np.ndarray, pts: np.ndarray) -> float:
        h, w = prob.shape
        x0, y0 = np.clip(pts.min(0), 0, [w - 1, h - 1]).astype(int)
        x1, y1 = np.clip(pts.max(0), 0, [w - 1, h - 1]).astype(int)
        mask = np.zeros((y1 - y0 + 1, x1 - x0 + 1), dtype=np.uint8)
        cv2.fillPoly(mask, [(pts - [x0, y0]).astype(np.int32)], 1)
        return float(cv2.mean(prob[y0 : y1 + 1, x0 : x1 + 1], mask)[0])

    def _unclip(self, box: np.ndarray) -> np.ndarray | None:
        area = cv2.contourArea(box.astype(np.float32))
        length = cv2.arcLength(box.astype(np.float32), True)
        if length <= 0:
            return None
        distance = area * self.unclip_ratio / length
        pco = pyclipper.PyclipperOffset()
        pco.AddPath([tuple(map(float, p)) for p in box], pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
        out = pco.Execute(distance)
        if not out:
            return None
        return np.asarray(max(out, key=len), dtype=np.float32)
