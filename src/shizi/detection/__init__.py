"""Text detection: page image → line polygons.

A detector is any object with ``detect(image) -> Detections`` where ``image`` is an RGB uint8
array ``(H, W, 3)`` and :class:`Detections` holds ``polygons`` (float arrays ``(K, 2)``, K >= 4,
clockwise from top-left, in page pixels) and ``scores`` (one float each). A plain list of polygons
is also accepted by the Reader (scores then count as 1.0).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np

from ..models import ModelInfo, load_model


class Detections(NamedTuple):
    polygons: list[np.ndarray]
    scores: list[float]


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


__all__ = ["Detections", "Detector", "load_detector"]
