"""Page orientation: is the text on a page upright, or turned by 90, 180 or 270 degrees?

A small CNN (``python -m shizi.train orient``, synthetic pages) looks at a few of the page's most
textured square patches, at the scale the detector sees the page, and gives each patch a probability
for each of the four turns; the page's turn is the one with the highest mean probability, taken only
when that mean reaches ``min_confidence``. The same patch cutting (:func:`page_patches`) serves
training and inference.

``rotation`` is the clockwise angle (0, 90, 180, 270) the page image is turned by to read upright:
a page whose text runs bottom to top (turned 90 degrees counter-clockwise) has rotation 90.
"""

from __future__ import annotations

import copy
from typing import NamedTuple

import cv2
import numpy as np

from .config import OrientConfig
from .models import ModelInfo, load_model

ROTATIONS = (0, 90, 180, 270)


class Orientation(NamedTuple):
    rotation: int  #: clockwise degrees that turn the page upright (0, 90, 180, 270)
    confidence: float  #: mean probability of that rotation over the patches
    probs: tuple[float, float, float, float]  #: mean probability of each of ROTATIONS


def page_grey(image: np.ndarray, side: int) -> np.ndarray:
    """The page in grey, scaled so its long side is ``side`` pixels."""
    g = image if image.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY)
    h, w = g.shape[:2]
    s = side / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    return cv2.resize(g, size, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)


def page_patches(image: np.ndarray, config: OrientConfig) -> np.ndarray:
    """Up to ``config.patches`` square patches [K, patch, patch] (uint8 grey) of the page scaled to
    ``config.side``: on a grid of half-patch steps, the windows with the most edge (mean gradient
    magnitude: text is dense in edges, a photo or a filled shape only at its outline), no two overlapping
    by more than half. A page smaller than a patch is padded with its median grey."""
    g = page_grey(image, config.side)
    p, step = config.patch, config.patch // 2
    h, w = g.shape
    if h < p or w < p:
        pad = np.full((max(h, p), max(w, p)), int(np.median(g)), np.uint8)
        pad[:h, :w] = g
        g, (h, w) = pad, pad.shape
    gf = g.astype(np.float32)
    edge = np.abs(cv2.Sobel(gf, cv2.CV_32F, 1, 0)) + np.abs(cv2.Sobel(gf, cv2.CV_32F, 0, 1))
    # mean edge strength of the window whose top-left corner is at each pixel
    density = cv2.boxFilter(edge, -1, (p, p), anchor=(0, 0), normalize=True, borderType=cv2.BORDER_CONSTANT)
    ys = np.arange(0, h - p + 1, step)
    xs = np.arange(0, w - p + 1, step)
    if ys[-1] != h - p:
        ys = np.append(ys, h - p)
    if xs[-1] != w - p:
        xs = np.append(xs, w - p)
    order = np.argsort(-density[np.ix_(ys, xs)], axis=None, kind="stable")
    chosen: list[tuple[int, int]] = []
    for k in order:
        y, x = int(ys[k // len(xs)]), int(xs[k % len(xs)])
        if all(abs(y - cy) >= step or abs(x - cx) >= step for cy, cx in chosen):
            chosen.append((y, x))
            if len(chosen) == config.patches:
                break
    return np.stack([g[y : y + p, x : x + p] for y, x in chosen])


def patch_tensor(patches: np.ndarray) -> np.ndarray:
    """[K, P, P] uint8 → the network's input [K, 1, P, P] float32: each patch to zero mean, unit spread
    (lighting and contrast vary; the glyphs' shapes are what tell the turn)."""
    x = patches.astype(np.float32)
    mean = x.mean(axis=(1, 2), keepdims=True)
    std = x.std(axis=(1, 2), keepdims=True)
    return ((x - mean) / np.maximum(std, 8.0))[:, None]


def decide(mean_probs: np.ndarray, min_confidence: float) -> np.ndarray:
    """Index into ROTATIONS of the turn for each row of ``mean_probs`` [..., 4] (a page's mean patch
    probabilities): the most probable turn, or 0 (as given) when a turn wins with less than
    ``min_confidence``."""
    p = np.asarray(mean_probs)
    best = p.argmax(-1)
    return np.where((best != 0) & (p.max(-1) < min_confidence), 0, best)


def turn_upright(image: np.ndarray, rotation: int) -> np.ndarray:
    """``image`` turned clockwise by ``rotation`` degrees (0, 90, 180, 270)."""
    k = ROTATIONS.index(rotation)
    return np.ascontiguousarray(np.rot90(image, -k)) if k else image


def upright_to_page(points: np.ndarray, rotation: int, width: int, height: int) -> np.ndarray:
    """Points [N, 2] of the page turned upright (:func:`turn_upright`) in the coordinates of the page
    as given (``width`` x ``height``; continuous coordinates, pixel (i, j) spanning [i, i + 1))."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    x, y = pts[:, 0], pts[:, 1]
    if rotation == 90:  # turning clockwise took given (x, y) to (height - y, x)
        return np.stack([y, height - x], axis=1)
    if rotation == 180:
        return np.stack([width - x, height - y], axis=1)
    if rotation == 270:
        return np.stack([width - y, x], axis=1)
    return pts


class PageOrienter:
    """Runs an orientation ONNX model (input ``image`` [K,1,P,P], output ``probs`` [K,4] over ROTATIONS)."""

    def __init__(self, info: ModelInfo, threads: int = 1, config: OrientConfig | None = None) -> None:
        self.info = info
        self.config = config or OrientConfig.from_model(info.config, source=f"{info.path}/config.json")
        self.session = info.session(threads)
        self.input_name = self.session.get_inputs()[0].name

    def with_config(self, **changes) -> PageOrienter:
        """The same model (session shared) with some settings changed."""
        other = copy.copy(self)
        other.config = self.config.replace(**changes)
        return other

    def patch_probs(self, image: np.ndarray) -> np.ndarray:
        """[K, 4]: each patch's probability of each of ROTATIONS."""
        x = patch_tensor(page_patches(image, self.config))
        return np.asarray(self.session.run(None, {self.input_name: x})[0], dtype=np.float64)

    def orient(self, image: np.ndarray) -> Orientation:
        probs = self.patch_probs(image).mean(axis=0)
        k = int(decide(probs, self.config.min_confidence))
        return Orientation(ROTATIONS[k], float(probs[k]), tuple(float(v) for v in probs))


def load_orienter(name_or_path=None, *, threads: int = 1) -> PageOrienter:
    """Load a page-orientation model (task ``orientation``) from the registry (default when None)."""
    return PageOrienter(load_model(name_or_path, task="orientation"), threads=threads)
