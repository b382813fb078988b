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
                 aspect: tuple[float, float] = (0.9, 1.1)):
        self.seed, self.length, self.max_chars, self.aspect = seed, length, max_chars, tuple(aspect)
        self._sampler = None

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> tuple[np.ndarray, str]:
        from shizi.synth.corpus import TextSampler
        from shizi.synth.lines import render_line

        rng = random.Random(self.seed * 1_000_003 + i)
        if self._sampler is None:
            self._sampler = TextSampler(rng)
        self._sampler.rng = rng
        return render_line(self._sampler, rng, HEIGHT, self.max_chars, self.aspect)


def resize_to_height(img: np.ndarray, height: int = HEIGHT) -> np.ndarray:
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY if img.shape[2] == 3 else cv2.COLOR_RGBA2GRAY)
    h, w = img.shape
    new_w = max(8, int(round(w * height / h)))
    return cv2.resize(img, (new_w, height), interpolation=cv2.INTER_AREA if h > height else cv2.INTER_LINEAR)


class LabeledLines(Dataset):
    """A user's crops: ``.jsonl`` lines ``{"image": path, "text": ...}`` or ``.tsv`` ``path<TAB>text``.
    Relative image paths are resolved against the label file's folder."""

    def __init__(self, label_file: str | Path, augment: bool = False, seed: int = 0):
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
        self.augment, self.seed = augment, seed

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> tuple[np.ndarray, str]:
        path, text = self.items[i % len(self.items)]
        img = cv2.imread(str(self.root / path), cv2.IMREAD_GRAYSCALE)
        if img is None:
            raise ValueError(f"cannot read training image {self.root / path}")
        if self.augment:
            from shizi.synth import degrade

            img = degrade.scan_and_photo(img, random.Random(self.seed * 1_000_003 + i), p=0.5)
        return resize_to_height(img), text


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
