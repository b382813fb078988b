"""CTPN detector runtime: ONNX inference, proposal NMS, text-line graph construction, line fitting.

The network scores fixed-width (``stride`` = 16 px) vertical anchors of ``anchor_heights`` on the
stride-16 grid and regresses each anchor's centre and height (``dy``, ``dh``) plus a side-refinement
offset (x of the line end relative to the anchor centre, in strides). Post-processing (Tian et al.,
2016): proposals above ``score_thresh`` → NMS → a graph joining each proposal to its best successor to
the right (within ``max_gap`` x line height, vertical overlap >= ``min_v_overlap``, height similarity
>= ``min_size_sim``) when it is also that successor's best predecessor → connected chains are lines;
each line's top and bottom edges are least-squares fits through its proposals, its ends come from the
side refinement of the first and last proposal. Torch-free.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..config import CTPNConfig
from . import Detections, OnnxDetector

__all__ = ["CTPNDetector", "nms", "build_lines", "merge_fragments", "fit_line"]


def nms(boxes: np.ndarray, scores: np.ndarray, thresh: float) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression of boxes ``[x0, y0, x1, y1]`` (inclusive)."""
    if len(boxes) == 0:
        return np.zeros(0, np.int64)
    xywh = np.column_stack([boxes[:, :2], boxes[:, 2:] - boxes[:, :2] + 1]).astype(np.float64)
    keep = cv2.dnn.NMSBoxes(xywh.tolist(), scores.astype(np.float64).tolist(), 0.0, thresh)
    return np.asarray(keep, np.int64).reshape(-1)


def build_lines(boxes: np.ndarray, scores: np.ndarray, max_gap: float, min_v_overlap: float,
                min_size_sim: float, width: float) -> list[list[int]]:
    """Group proposals ``[x0, y0, x1, y1]`` into text lines; returns lists of proposal indices, each
    sorted left to right. ``max_gap`` is the largest horizontal distance between neighbouring
    proposals, in multiples of the proposal height (at least one proposal width)."""
    n = len(boxes)
    if n == 0:
        return []
    order = np.argsort(boxes[:, 0], kind="stable")
    b = boxes[order].astype(np.float64)
    sc = np.asarray(scores, np.float64)[order]
    x0, y0, y1 = b[:, 0], b[:, 1], b[:, 3]
    h = y1 - y0 + 1
    gap = np.maximum(width, max_gap * h)
    big = float(gap.max()) + 1.0

    def best_neighbour(direction: int) -> tuple[np.ndarray, np.ndarray]:
        """Per proposal: in the nearest column (in ``direction``) holding proposals that meet it
        (vertical overlap, height similarity), the best-scoring one and its score."""
        best = np.full(n, -1, np.int64)
        best_sc = np.full(n, -np.inf)
        for a in range(0, n, 512):
            rows = np.arange(a, min(n, a + 512))
            lo = np.searchsorted(x0, x0[rows[0]] - big, "left")
            hi = np.searchsorted(x0, x0[rows[-1]] + big, "right")
            cols = np.arange(lo, hi)
            dx = (x0[cols][None, :] - x0[rows][:, None]) * direction
            top = np.maximum(y0[rows][:, None], y0[cols][None, :])
            inter = np.minimum(y1[rows][:, None], y1[cols][None, :]) - top + 1
            hmin = np.minimum(h[rows][:, None], h[cols][None, :])
            hmax = np.maximum(h[rows][:, None], h[cols][None, :])
            ok = (dx > 0.5) & (dx <= gap[rows][:, None] + 0.5)
            ok &= (np.clip(inter, 0, None) / hmin >= min_v_overlap) & (hmin / hmax >= min_size_sim)
            dmin = np.where(ok, dx, np.inf).min(1)
            near = ok & (np.abs(dx - dmin[:, None]) < 1.0)
            s = np.where(near, sc[cols][None, :], -np.inf)
            arg = s.argmax(1)
            has = near.any(1)
            best[rows[has]] = cols[arg[has]]
            best_sc[rows[has]] = s[has, arg[has]]
        return best, best_sc

    nxt, _ = best_neighbour(+1)
    _, pre_best = best_neighbour(-1)
    succ = np.full(n, -1, np.int64)
    linked = np.zeros(n, bool)
    for i in range(n):  # the reference rule: i -> j when i is also j's best predecessor
        j = nxt[i]
        if j >= 0 and np.isfinite(pre_best[j]) and sc[i] >= pre_best[j] and not linked[j]:
            succ[i] = j
            linked[j] = True
    lines: list[list[int]] = []
    for i in range(n):
        if linked[i]:
            continue
        chain, k = [i], succ[i]
        while k >= 0 and len(chain) <= n:
            chain.append(int(k))
            k = succ[k]
        lines.append([int(order[c]) for c in chain])
    return lines


def merge_fragments(boxes: np.ndarray, lines: list[list[int]], max_gap: float) -> list[list[int]]:
    """Join chains that are pieces of one line (the graph breaks where a proposal is missing or its
    height is off): same axis (centre within half a line height where they meet), heights within
    1.6x, horizontal gap at most ``max_gap`` x the line height. Returns merged chains, left to right."""
    info = []
    for idx in lines:
        b = boxes[idx]
        q = fit_line(b)
        info.append([list(idx), q])
    changed = True
    while changed and len(info) > 1:
        changed = False
        info.sort(key=lambda t: t[1][0, 0])
        for a in range(len(info)):
            qa = info[a][1]
            ha = float(qa[3, 1] - qa[0, 1])
            for c in range(a + 1, len(info)):
                qb = info[c][1]
                hb = float(qb[3, 1] - qb[0, 1])
                if min(ha, hb) < max(ha, hb) / 1.6:
                    continue
                gap = qb[0, 0] - qa[1, 0]
                if gap > max_gap * max(ha, hb) or qb[1, 0] <= qa[1, 0]:
                    continue
                xm = float(max(qb[0, 0], min(qa[1, 0], qb[1, 0])))
                ya = _centre_at(qa, xm)
                yb = _centre_at(qb, xm)
                if abs(ya - yb) > 0.5 * min(ha, hb):
                    continue
                idx = sorted(set(info[a][0]) | set(info[c][0]), key=lambda k: boxes[k, 0])
                info[a] = [idx, fit_line(boxes[idx])]
                del info[c]
                changed = True
                break
            if changed:
                break
    return [t[0] for t in info]


def _centre_at(q: np.ndarray, x: float) -> float:
    """y of a quad's centre line at ``x`` (extrapolated along its top and bottom edges)."""
    def edge(p0, p1):
        dx = p1[0] - p0[0]
        return p0[1] + (p1[1] - p0[1]) * ((x - p0[0]) / dx if dx else 0.0)

    return 0.5 * (edge(q[0], q[1]) + edge(q[3], q[2]))


def fit_line(boxes: np.ndarray, x_left: float | None = None, x_right: float | None = None) -> np.ndarray:
    """Quad (TL, TR, BR, BL) of a text line from its proposals: least-squares top and bottom edges."""
    x0 = float(boxes[:, 0].min()) if x_left is None else x_left
    x1 = float(boxes[:, 2].max()) if x_right is None else x_right
    cx = (boxes[:, 0] + boxes[:, 2]) / 2
    if len(boxes) > 1 and np.ptp(cx) > 0:
        top = np.polyfit(cx, boxes[:, 1], 1)
        bot = np.polyfit(cx, boxes[:, 3], 1)
        # keep the line's mean height: a robust centre line slope with the mean top/bottom offsets
        slope = (top[0] + bot[0]) / 2
        mx = cx.mean()
        t0, b0 = boxes[:, 1].mean() - slope * mx, boxes[:, 3].mean() - slope * mx
    else:
        slope, t0, b0 = 0.0, float(boxes[:, 1].mean()), float(boxes[:, 3].mean())
    return np.array([[x0, t0 + slope * x0], [x1, t0 + slope * x1], [x1, b0 + slope * x1],
                     [x0, b0 + slope * x0]], np.float32)


class CTPNPostProcess:
    """Anchor outputs → proposals → text lines → quads, with :class:`~shizi.config.CTPNConfig`'s settings;
    needs no model."""

    def __init__(self, config: CTPNConfig | None = None) -> None:
        self.config = config or CTPNConfig()
        self.anchors = np.asarray(self.config.anchor_heights, np.float32)

    def __call__(self, score, regr, side, sx: float, sy: float, width: int, height: int) -> Detections:
        return self.postprocess(score, regr, side, sx, sy, width, height)

    def proposals(self, score: np.ndarray, regr: np.ndarray, side: np.ndarray):
        """Decode anchors above threshold → boxes [x0,y0,x1,y1], scores, side x (model pixels)."""
        s = self.config.stride
        r, c, k = np.nonzero(score >= self.config.score_thresh)
        sc = score[r, c, k]
        ah = self.anchors[k]
        cy = r * s + s / 2 + regr[r, c, k, 0] * ah
        hh = np.exp(np.clip(regr[r, c, k, 1], -3, 3)) * ah
        cx = c * s + s / 2
        boxes = np.stack([c * s, cy - hh / 2, c * s + s - 1, cy + hh / 2], 1).astype(np.float32)
        sides = (cx + side[r, c, k] * s).astype(np.float32)
        keep = nms(boxes, sc, self.config.nms_thresh)
        return boxes[keep], sc[keep], sides[keep]

    def postprocess(self, score, regr, side, sx: float, sy: float, width: int, height: int) -> Detections:
        boxes, sc, sides = self.proposals(score, regr, side)
        polys: list[np.ndarray] = []
        scores: list[float] = []
        c = self.config
        lines = build_lines(boxes, sc, c.max_gap, c.min_v_overlap, c.min_size_sim, c.stride)
        if self.config.merge_fragments and len(lines) > 1:
            lines = merge_fragments(boxes, lines, self.config.max_gap)
        for idx in lines:
            if len(idx) < self.config.min_proposals:
                continue
            line_score = float(sc[idx].mean())
            if line_score < self.config.line_score:
                continue
            b = boxes[idx]
            s = self.config.stride
            # side refinement: trust the predicted end when it lies within the end proposal's reach
            xl = float(sides[idx[0]]) if abs(sides[idx[0]] - (b[0, 0] + s / 2)) <= 1.5 * s else None
            xr = float(sides[idx[-1]]) if abs(sides[idx[-1]] - (b[-1, 0] + s / 2)) <= 1.5 * s else None
            quad = fit_line(b, xl, xr)
            quad[:, 0] = np.clip(quad[:, 0] * sx, 0, width - 1)
            quad[:, 1] = np.clip(quad[:, 1] * sy, 0, height - 1)
            polys.append(quad)
            scores.append(line_score)
        return Detections(polys, scores)


class CTPNDetector(OnnxDetector):
    """Runs a CTPN ONNX model (input ``image`` [N,3,H,W]; outputs ``score``, ``regr``, ``side``); settings
    from the model's config (:class:`~shizi.config.CTPNConfig`), or ``config`` when given."""

    config_class = CTPNConfig

    post_class = CTPNPostProcess

    def run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The network's ``score``, ``regr`` and ``side`` maps (one page) for a preprocessed page."""
        outs = dict(zip(self.output_names, self.session.run(None, {self.input_name: x}), strict=False))
        return outs["score"][0], outs["regr"][0], outs["side"][0]

    def detect(self, image: np.ndarray) -> Detections:
        x, sx, sy = self.preprocess(image)
        return self.post(*self.run(x), sx, sy, image.shape[1], image.shape[0])
