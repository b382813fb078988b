"""Recognition result type."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RecognitionResult:
    """Text of one line crop with its confidence (mean of char confidences, 0 when empty).

    ``char_confidences[i]``, ``char_x[i]`` (centre) and ``char_spans[i]`` (x0, x1) belong to
    ``text[i]``; positions are in the pixels of the crop given to the recognizer. A span is the run of
    CTC steps that gave the character (near its glyph's left edge); the boxes a page reports come from
    these and the crop's ink (:func:`shizi.recognition.crops.glyph_boxes`).
    """

    text: str
    confidence: float
    char_confidences: list[float] = field(default_factory=list)
    char_x: list[float] = field(default_factory=list)
    char_spans: list[tuple[float, float]] = field(default_factory=list)
