"""Datasets for recognizer training: synthetic lines (deterministic per seed and index) and a user's
labeled crops (JSONL with ``image``/``text`` or a tab-separated ``image<TAB>text`` file)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

HEIGHT = 32
MEAN, STD = 0.5, 0.5  # the network sees (x / 255 - MEAN) / STD; export writes both to config.json


class SynthLines(Dataset):
    """Sample ``i`` is always the same line for the same seed, so training resumes exactly."""

    def __init__(self, seed: int, length: int = 10**9, max_chars: int = 24,
                 aspect: tuple[float, float] = (0.9, 1.1), focus: list[str] | None = None,
                 focus_share: float = 0.0):
        self.seed, self.length, self.max_chars, self.aspect = seed, length, max_chars, tuple(aspect)
        self.focus, self.focus_share = focus, focus_share
        self._sampler = None

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> tuple[np.ndarray, str]:
        from shizi.synth.corpus import TextSampler
        from shizi.synth.lines import render_line

        rng = random.Random(self.seed * 1_000_003 + i)
        if self._sampler is None:
            self._sampler = TextSampler(rng)
            self._sampler.focus, self._sampler.focus_share = self.focus, self.focus_share
        self._sampler.rng = rng
        return render_line(self._sampler, rng, HEIGHT, self.max_chars, self.aspect)


class SynthCodes(Dataset):
    """Text captchas (``kind`` "captcha", :mod:`shizi.synth.captcha`, of ``generator``) or licence
    plates ("plate", :mod:`shizi.synth.plates`) as the runtime reads them: grey, height 32, the width
    stretched by a factor drawn from ``aspect`` (these models' ``width_scale`` is 2: a 160 x 60 captcha
    at height 32 leaves some 10 time steps for six characters, a plate 12 for eight). Sample ``i`` is
    always the same."""

    #: runtime settings written into the exported model's config.json (shizi.config.RecConfig)
    RUNTIME = {"width_scale": 2.0, "ink_margin": None, "reread_scales": [], "correctors": []}

    def __init__(self, seed: int, kind: str = "captcha", generator: str = "captcha",
                 aspect: tuple[float, float] = (1.8, 2.2)):
        if kind not in ("captcha", "plate"):
            raise ValueError(f"SynthCodes: unknown kind {kind!r}")
        self.seed, self.kind, self.generator, self.aspect = seed, kind, generator, tuple(aspect)

    def __len__(self) -> int:
        return 10**9

    def __getitem__(self, i: int) -> tuple[np.ndarray, str]:
        rng = random.Random(self.seed * 1_000_003 + i)
        if self.kind == "captcha":
            from shizi.synth.captcha import GENERATORS, captcha_text

            text = captcha_text(rng)
            img = GENERATORS[self.generator](text, rng)
        else:
            from shizi.synth.plates import plate_text, render_plate

            text, kind = plate_text(rng)
            img = render_plate(text, kind, rng)
        grey = resize_to_height(img)
        w = max(8, int(round(grey.shape[1] * rng.uniform(*self.aspect))))
        return cv2.resize(grey, (w, HEIGHT), interpolation=cv2.INTER_LINEAR), text


class PageLines(Dataset):
    """Lines cut from synthetic pages (:func:`shizi.synth.pages.render_page`: photos of paper, signs,
    receipts, screenshots, vertical pages ...; ``kind`` as there) the way the runtime cuts them: the
    line's quad, its edges moved as a detector's would be, rectified by
    :func:`shizi.recognition.crops.crop_line`; a vertical column as the cells side by side that the
    runtime reads first. Lines the frame cuts off, columns with Latin runs, lines under ``min_height``
    pixels and lines blurred past reading (:func:`sharpness`) are left out. Sample ``i`` is always the
    same: ``per_page`` consecutive samples come from one page (rendered once per worker)."""

    def __init__(self, seed: int, per_page: int = 24, max_chars: int = 32, min_height: int = 12,
                 min_sharpness: float = 2.5, aspect: tuple[float, float] = (0.9, 1.1),
                 kind: str | None = None):
        self.seed, self.per_page, self.max_chars, self.kind = seed, per_page, max_chars, kind
        self.min_height, self.min_sharpness, self.aspect = min_height, min_sharpness, tuple(aspect)
        self._page: tuple[int, str, list[tuple[np.ndarray, str]]] | None = None

    def __len__(self) -> int:
        return 10**9

    def page_lines(self, index: int) -> tuple[str, list[tuple[np.ndarray, str]]]:
        """Page ``index``'s kind and its usable lines as (grey crop, text), in a fixed shuffled order."""
        if self._page is not None and self._page[0] == index:
            return self._page[1:]
        from shizi.synth.pages import render_page

        page = render_page(self.seed, index, self.kind)
        rng = random.Random(self.seed * 7_919 + index)
        h, w = page.image.shape[:2]
        out = []
        for q, text in zip(page.quads, page.texts, strict=True):
            # a line the frame cuts off (its quad clipped to the image) no longer shows all its text
            whole = (q > 0.5).all() and (q[:, 0] < w - 1.5).all() and (q[:, 1] < h - 1.5).all()
            if whole and text.strip() and len(text) <= self.max_chars:
                crop = self._crop(page.image, q, text, rng)
                if crop is not None:
                    out.append((crop, text))
        rng.shuffle(out)
        self._page = (index, page.kind, out)
        return page.kind, out

    def __getitem__(self, i: int) -> tuple[np.ndarray, str]:
        from shizi.synth.lines import to_input

        rng = random.Random(self.seed * 1_000_003 + i)
        index, k = divmod(i, self.per_page)
        for attempt in range(50):
            _, lines = self.page_lines(index + attempt * 1_000_000_007)
            if lines:
                crop, text = lines[k % len(lines)]
                return to_input(crop, rng, HEIGHT, self.aspect), text
        raise RuntimeError(f"no usable line on 50 synthetic pages from {index}")  # pragma: no cover

    def _crop(self, image: np.ndarray, quad: np.ndarray, text: str, rng: random.Random) -> np.ndarray | None:
        from shizi.geometry import VERTICAL, line_direction
        from shizi.recognition.crops import crop_line

        tl, tr, br, bl = np.asarray(quad, np.float32)
        along, across = tr - tl, bl - tl
        vertical = line_direction(quad) == VERTICAL
        if vertical and any(c.isascii() for c in text):
            return None  # Latin runs lie turned in a column: its cells are not its characters
        thick = min(np.linalg.norm(along), np.linalg.norm(across))
        if thick < self.min_height:
            return None
        u, v = along / max(np.linalg.norm(along), 1e-6), across / max(np.linalg.norm(across), 1e-6)
        d = [rng.uniform(-0.08, 0.15) * thick for _ in range(4)]  # top, right, bottom, left
        q = np.array([tl - d[0] * v - d[3] * u, tr - d[0] * v + d[1] * u,
                      br + d[2] * v + d[1] * u, bl + d[2] * v - d[3] * u], np.float32)
        lc = crop_line(image, q, vertical)
        if vertical:
            if lc.column is None or len(lc.column.cells) != len(text):
                return None
            img = lc.column.stacked
        else:
            img = lc.images[0]
        if min(img.shape[:2]) < 4:
            return None
        grey = cv2.cvtColor(np.ascontiguousarray(img[:, :, :3]), cv2.COLOR_RGB2GRAY) if img.ndim == 3 else img
        return grey if sharpness(grey) >= self.min_sharpness else None


def sharpness(grey: np.ndarray) -> float:
    """How crisp a line crop is at the recognizer's height: the 95th percentile of the gradient over the
    5-95 % grey range. Page photos blurred past reading score under about 2.5, legible lines over 2.8."""
    g = resize_to_height(grey).astype(np.float32)
    lo, hi = np.percentile(g, [5, 95])
    grad = np.abs(cv2.Sobel(g, cv2.CV_32F, 1, 0)) + np.abs(cv2.Sobel(g, cv2.CV_32F, 0, 1))
    return float(np.percentile(grad, 95) / max(hi - lo, 1.0))


def resize_to_height(img: np.ndarray, height: int = HEIGHT) -> np.ndarray:
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY if img.shape[2] == 3 else cv2.COLOR_RGBA2GRAY)
    h, w = img.shape
    new_w = max(8, int(round(w * height / h)))
    return cv2.resize(img, (new_w, height), interpolation=cv2.INTER_AREA if h > height else cv2.INTER_LINEAR)


class LabeledLines(Dataset):
    """A user's crops: ``.jsonl`` lines ``{"image": path, "text": ...}`` or ``.tsv`` ``path<TAB>text``.
    Relative image paths are resolved against the label file's folder. Each crop's width is stretched
    by a factor drawn from ``aspect``, as the synthetic data beside it (``--aspect``)."""

    def __init__(self, label_file: str | Path, augment: bool = False, seed: int = 0,
                 aspect: tuple[float, float] = (1.0, 1.0)):
        label_file = Path(label_file)
        self.root = label_file.parent
        self.items: list[tuple[str, str]] = []
        for line in label_file.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            if label_file.suffix == ".jsonl":
                d = json.loads(line)
                self.items.append((d["image"], d["text"]))
            else:
                path, text = line.split("\t", 1)
                self.items.append((path, text))
        self.augment, self.seed, self.aspect = augment, seed, tuple(aspect)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> tuple[np.ndarray, str]:
        path, text = self.items[i % len(self.items)]
        img = cv2.imread(str(self.root / path), cv2.IMREAD_GRAYSCALE)
        if img is None:
            raise ValueError(f"cannot read training image {self.root / path}")
        rng = random.Random(self.seed * 1_000_003 + i)
        if self.augment:
            from shizi.synth import degrade

            img = degrade.scan_and_photo(img, rng, p=0.5)
        img = resize_to_height(img)
        w = max(8, int(round(img.shape[1] * rng.uniform(*self.aspect))))
        if w != img.shape[1]:
            img = cv2.resize(img, (w, HEIGHT), interpolation=cv2.INTER_LINEAR)
        return img, text


class Encoder:
    """Text <-> class indices; index 0 is the CTC blank."""

    def __init__(self, charset: list[str]):
        self.charset = charset
        self.index = {c: i + 1 for i, c in enumerate(charset)}

    def encode(self, text: str) -> list[int]:
        return [self.index[c] for c in text if c in self.index]

    def decode_greedy(self, ids: list[int]) -> str:
        out, prev = [], 0
        for k in ids:
            if k != prev and k != 0:
                out.append(self.charset[k - 1])
            prev = k
        return "".join(out)


def collate(batch: list[tuple[np.ndarray, str]], width_multiple: int = 32, max_width: int = 1600):
    """Pad crops on the right with white to a common width; returns images in [-1, 1], widths, texts."""
    widths = [min(im.shape[1], max_width) for im, _ in batch]
    w = int(np.ceil(max(widths) / width_multiple) * width_multiple)
    x = np.full((len(batch), 1, HEIGHT, w), 255, np.uint8)
    for i, (im, _) in enumerate(batch):
        x[i, 0, :, : widths[i]] = im[:, : widths[i]]
    t = torch.from_numpy(x).float().div_(255.0).sub_(MEAN).div_(STD)
    return t, torch.tensor(widths), [txt for _, txt in batch]
