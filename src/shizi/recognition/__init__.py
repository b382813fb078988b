"""Text recognition: line crops → text, confidence, per-character confidences and positions.

A recognizer is any object with ``recognize(crops) -> list[RecognitionResult]`` where ``crops``
are RGB (or grey) uint8 arrays of single horizontal text lines. ``char_x`` / ``char_spans`` are
in the pixels of the crop that was passed in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from ..models import load_model
from .crnn import CRNNRecognizer
from .crops import crop_line, rectify_quad
from .ctc import ctc_log_likelihoods
from .decoder import Corrector, Reading, ctc_greedy_decode
from .types import RecognitionResult


@runtime_checkable
class Recognizer(Protocol):
    def recognize(self, crops: list) -> list[RecognitionResult]: ...


def load_recognizer(
    name_or_path: str | Path | None = None,
    *,
    threads: int = 1,
    batch_size: int = 16,
    lm: bool = True,
    reread: bool = True,
) -> Recognizer:
    """Load a recognition model from the registry (default when None); ``lm=False`` decodes without
    the language models its config names (Han bigram model, Latin word list), ``reread=False`` reads
    unsure lines once, not again at the config's ``reread_scales``."""
    info = load_model(name_or_path, task="recognition")
    return CRNNRecognizer(info, threads=threads, batch_size=batch_size, lm=lm, reread=reread)


__all__ = [
    "RecognitionResult",
    "Recognizer",
    "CRNNRecognizer",
    "Corrector",
    "Reading",
    "ctc_greedy_decode",
    "ctc_log_likelihoods",
    "load_recognizer",
    "crop_line",
    "rectify_quad",
]
