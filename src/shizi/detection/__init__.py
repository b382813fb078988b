"""Text detection: page image → line polygons.

A detector is any object with ``detect(image) -> Detections`` where ``image`` is an RGB uint8
array ``(H, W, 3)`` and :class:`Detections` holds ``polygons`` (float arrays ``(K, 2)``, K >= 4,
clockwise from top-left, in page pixels) and ``scores`` (one float each). A plain list of polygons
is also accepted by the Reader (scores then count as 1.0).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np

from ..config import DetectorConfig
from ..models import ModelInfo, load_model


class Detections(NamedTuple):
    polygons: list[np.ndarray]
    scores: list[float]


def page_tensor(image: np.ndarray, max_side: int, mean, std, scale: float | None = None
                ) -> tuple[np.ndarray, float, float]:
    """Resize by ``scale`` (default: so the long side is at most ``max_side``), sides rounded to multiples
    of 32, and normalise by the RGB ``mean`` and ``std``: returns the [1, 3, H, W] float32 input and the
    x / y scale back to page pixels."""
    import cv2

    mean = np.asarray(mean, dtype=np.float32).reshape(3, 1, 1)
    std = np.asarray(std, dtype=np.float32).reshape(3, 1, 1)
    h, w = image.shape[:2]
    s = min(1.0, max_side / max(h, w)) if scale is None else scale
    nh, nw = model_size(h, w, s)
    resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    x = resized.astype(np.float32).transpose(2, 0, 1) / 255.0
    x = (x - mean) / std
    return x[None].astype(np.float32), w / nw, h / nh


def model_size(h: int, w: int, scale: float) -> tuple[int, int]:
    """The network input's (height, width) for a ``h`` x ``w`` page at ``scale``: multiples of 32."""
    return max(32, int(round(h * scale / 32)) * 32), max(32, int(round(w * scale / 32)) * 32)


class OnnxDetector:
    """What the ONNX detectors share: a typed config (``config_class``), the session, the page tensor at
    ``max_side``, and ``with_config``. Subclasses set ``post`` (their post-processing, built from the
    config) and ``run``."""

    config_class: type = DetectorConfig
    post_class: type

    def __init__(self, info: ModelInfo, threads: int = 1, config: DetectorConfig | None = None) -> None:
        self.info = info
        self.config = config or self.config_class.from_model(info.config, source=f"{info.path}/config.json")
        self.session = info.session(threads)
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = [o.name for o in self.session.get_outputs()]
        self.post = self.post_class(self.config)

    def with_config(self, **changes):
        """The same model (session shared) with some settings changed."""
        other = copy.copy(self)
        other.config = self.config.replace(**changes)
        other.post = self.post_class(other.config)
        return other

    def preprocess(self, image: np.ndarray) -> tuple[np.ndarray, float, float]:
        return page_tensor(image, self.config.max_side, self.config.mean, self.config.std)


@runtime_checkable
class Detector(Protocol):
    def detect(self, image: np.ndarray) -> Detections: ...


def load_detector(name_or_path: str | Path | None = None, *, threads: int = 1) -> Detector:
    """Load a detection model from the registry (default when None) and wrap it by its ``arch``."""
    info: ModelInfo = load_model(name_or_path, task="detection")
    arch = info.arch.lower()
    if arch.startswith("ctpn"):
        from .ctpn import CTPNDetector  # provided by the detection module when shipped

        return CTPNDetector(info, threads=threads)
    from .db import DBDetector

    return DBDetector(info, threads=threads)


__all__ = ["Detections", "Detector", "load_detector", "page_tensor"]
