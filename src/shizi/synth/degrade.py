"""Degradations that make clean renders look like scans, photos and screenshots (grey or RGB uint8)."""

from __future__ import annotations

import math
import random

import cv2
import numpy as np


def blur(img: np.ndarray, rng: random.Random) -> np.ndarray:
    s = rng.uniform(0.3, 1.3)
    return cv2.GaussianBlur(img, (0, 0), s)


def resample(img: np.ndarray, rng: random.Random) -> np.ndarray:
    """Down- then up-scale: the softness of low-resolution scans and screenshots."""
    h, w = img.shape[:2]
    f = rng.uniform(0.4, 0.85)
    small = cv2.resize(img, (max(1, int(w * f)), max(1, int(h * f))), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=rng.choice([cv2.INTER_LINEAR, cv2.INTER_CUBIC]))


def noise(img: np.ndarray, rng: random.Random) -> np.ndarray:
    sigma = rng.uniform(2, 14)
    nrng = np.random.default_rng(rng.getrandbits(32))
    out = img.astype(np.float32) + nrng.normal(0, sigma, img.shape).astype(np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


def jpeg(img: np.ndarray, rng: random.Random) -> np.ndarray:
    q = rng.randint(25, 90)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, q])
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) if ok else img


def uneven_light(img: np.ndarray, rng: random.Random) -> np.ndarray:
    h, w = img.shape[:2]
    gx = np.linspace(rng.uniform(-1, 1), rng.uniform(-1, 1), w, dtype=np.float32)
    gy = np.linspace(rng.uniform(-1, 1), rng.uniform(-1, 1), h, dtype=np.float32)
    field = 1.0 - rng.uniform(0.1, 0.4) * np.clip((gy[:, None] + gx[None, :]) / 2 + 0.5, 0, 1)
    if img.ndim == 3:
        field = field[..., None]
    return np.clip(img.astype(np.float32) * field, 0, 255).astype(np.uint8)


def contrast(img: np.ndarray, rng: random.Random) -> np.ndarray:
    a = rng.uniform(0.55, 1.0)
    b = rng.uniform(0, 255 * (1 - a))
    return np.clip(img.astype(np.float32) * a + b, 0, 255).astype(np.uint8)


def perspective(img: np.ndarray, rng: random.Random, strength: float = 0.04, border: int = 255) -> np.ndarray:
    h, w = img.shape[:2]
    d = strength * h
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = src + np.float32([[rng.uniform(-d, d), rng.uniform(-d, d)] for _ in range(4)])
    m = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE if border < 0 else
                               cv2.BORDER_CONSTANT, borderValue=border)


def rotate(img: np.ndarray, rng: random.Random, max_deg: float = 2.0, border: int = 255) -> np.ndarray:
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-max_deg, max_deg), 1.0)
    return cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_CONSTANT, borderValue=border)


def small_print(img: np.ndarray, rng: random.Random, line_height: float) -> np.ndarray:
    """Text ``line_height`` px tall shrunk to 8-16 px, then noise and JPEG at that size: small print on
    a low-resolution scan or a photo of a whole page, where artefacts are as large as strokes."""
    f = rng.uniform(8, 16) / max(line_height, 1.0)  # 10-16 until stage 12
    if f < 1:
        h, w = img.shape[:2]
        img = cv2.resize(img, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.3:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 0.6))
    if rng.random() < 0.3:
        img = noise(img, rng)
    if rng.random() < 0.6:
        img = jpeg(img, rng)
    return img


def scan_and_photo(img: np.ndarray, rng: random.Random, p: float = 1.0) -> np.ndarray:
    """A random chain of the degradations above; ``p`` scales how often each is applied."""
    if rng.random() < 0.15 * p:
        img = uneven_light(img, rng)
    if rng.random() < 0.3 * p:
        img = contrast(img, rng)
    if rng.random() < 0.2 * p:
        img = resample(img, rng)
    if rng.random() < 0.35 * p:
        img = blur(img, rng)
    if rng.random() < 0.3 * p:
        img = noise(img, rng)
    if rng.random() < 0.35 * p:
        img = jpeg(img, rng)
    return img


# ------------------------------------------------------------------ camera photos of paper and signs


def colour_cast(img: np.ndarray, rng: random.Random) -> np.ndarray:
    """White balance off: warm indoor light (red up, blue down) or a cold, blue-tinted shot."""
    if rng.random() < 0.6:
        gains = (rng.uniform(1.0, 1.08), rng.uniform(0.85, 0.97), rng.uniform(0.6, 0.85))
    else:
        gains = (rng.uniform(0.7, 0.9), rng.uniform(0.85, 0.98), rng.uniform(1.0, 1.1))
    return np.clip(img.astype(np.float32) * np.float32(gains), 0, 255).astype(np.uint8)


def falloff(img: np.ndarray, rng: random.Random) -> np.ndarray:
    """Light falling off from a lamp or flash somewhere over the frame (radial, not a gradient)."""
    h, w = img.shape[:2]
    cx, cy = rng.uniform(-0.2, 1.2) * w, rng.uniform(-0.2, 1.2) * h
    ys, xs = np.ogrid[:h, :w]
    d = np.sqrt((xs - cx) ** 2 + (ys - cy) ** 2) / max(h, w)
    field = 1.0 - rng.uniform(0.2, 0.6) * np.clip(d, 0, 1.2) ** rng.uniform(1.0, 2.0)
    return np.clip(img.astype(np.float32) * field[..., None], 0, 255).astype(np.uint8)


def shadow(img: np.ndarray, rng: random.Random) -> np.ndarray:
    """A soft shadow (a hand, a phone) over part of the frame: a blurred polygon, darker inside."""
    h, w = img.shape[:2]
    mask = np.zeros((h, w), np.float32)
    n = rng.randint(3, 5)
    pts = np.int32([[rng.uniform(-0.3, 1.3) * w, rng.uniform(-0.3, 1.3) * h] for _ in range(n)])
    cv2.fillPoly(mask, [pts], 1.0)
    mask = cv2.GaussianBlur(mask, (0, 0), rng.uniform(0.01, 0.08) * max(h, w))
    field = 1.0 - rng.uniform(0.25, 0.6) * mask
    return np.clip(img.astype(np.float32) * field[..., None], 0, 255).astype(np.uint8)


def motion_blur(img: np.ndarray, rng: random.Random) -> np.ndarray:
    """A shaky hand: a short line kernel at a random angle."""
    n = rng.randint(3, 9)
    k = np.zeros((n, n), np.float32)
    a = rng.uniform(0, math.pi)
    c = (n - 1) / 2
    cv2.line(k, (round(c - c * math.cos(a)), round(c - c * math.sin(a))),
             (round(c + c * math.cos(a)), round(c + c * math.sin(a))), 1.0, 1)
    return cv2.filter2D(img, -1, k / k.sum())


def moire(img: np.ndarray, rng: random.Random) -> np.ndarray:
    """A screen or halftone photographed: a faint fine grating beating with the sensor grid."""
    h, w = img.shape[:2]
    ys, xs = np.mgrid[:h, :w].astype(np.float32)
    a = rng.uniform(0, math.pi)
    f = rng.uniform(0.15, 0.45)
    g = np.sin((xs * math.cos(a) + ys * math.sin(a)) * f * 2 * math.pi) * rng.uniform(4, 14)
    return np.clip(img.astype(np.float32) + g[..., None], 0, 255).astype(np.uint8)


def camera(img: np.ndarray, rng: random.Random) -> np.ndarray:
    """What a phone camera adds to a photo of paper or a sign: cast, uneven light, shadow, blur
    (focus or shake), moiré, sensor noise and JPEG, each with its own chance."""
    if rng.random() < 0.6:
        img = colour_cast(img, rng)
    if rng.random() < 0.6:
        img = falloff(img, rng)
    if rng.random() < 0.3:
        img = shadow(img, rng)
    r = rng.random()
    if r < 0.3:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 2.0))
    elif r < 0.45:
        img = motion_blur(img, rng)
    if rng.random() < 0.08:
        img = moire(img, rng)
    if rng.random() < 0.5:
        img = noise(img, rng)
    if rng.random() < 0.7:
        img = jpeg(img, rng)
    return img
