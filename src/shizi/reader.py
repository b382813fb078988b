"""The pipeline: ``Reader(detector=..., recognizer=..., layout=...).read(input) -> Document``.

Stages are replaceable objects:

- detector: ``detect(image RGB uint8) -> Detections(polygons, scores)`` (or a list of polygons);
- recognizer: ``recognize(crops) -> list[RecognitionResult]``;
- layout: ``arrange(polygons) -> list[list[int]]`` (blocks of line indices in reading order).

A Reader keeps no per-call state; onnxruntime sessions may be run from several threads at once, so
one Reader can be shared by threads (``read_many`` does that with a thread pool).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from .detection import Detections
from .document import Block, Char, Document, Line, Page, _poly, build_words
from .errors import InputError, ModelError, ShiziError
from .io import DEFAULT_DPI, DEFAULT_MAX_PAGES, DEFAULT_MAX_PIXELS, iter_pages, source_name
from .layout import ColumnLayout
from .orientation import turn_upright, upright_to_page
from .recognition import RecognitionResult
from .recognition.crops import SIDE_PAD, crop_line, map_points, turn_vertical

_DEFAULT = object()


class Reader:
    """Reads pages and lines.

    ``detector`` / ``recognizer``: ``None`` for the installed default model, a registry name, a model
    folder path, or an object implementing the stage. ``detector=False`` makes a line-only reader
    (``read(..., mode="line")``). ``threads`` sets onnxruntime intra-op threads per model (default 1:
    predictable, and parallelism across pages/files is done by ``read_many``). ``lm=False`` turns off
    the language models that a loaded recognizer's config names (:mod:`shizi.recognition.lm`,
    :mod:`shizi.recognition.lexicon`); ``reread=False`` reads each line once, not unsure ones again at a
    second width (:class:`shizi.recognition.CRNNRecognizer`): faster, a little less accurate.
    ``orient``: True turns each page upright first with the installed page-orientation model, when one
    is installed (:mod:`shizi.orientation`; ``Page.rotation`` says by how much); False reads pages as
    given; a model name, folder or object with ``orient(image) -> Orientation`` picks another.

    Raises :class:`shizi.errors.ModelError` when no model of a needed task is installed.
    """

    def __init__(
        self,
        detector: Any = None,
        recognizer: Any = None,
        layout: Any = None,
        *,
        threads: int = 1,
        batch_size: int = 16,
        dpi: int = DEFAULT_DPI,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        max_pages: int = DEFAULT_MAX_PAGES,
        min_score: float = 0.0,
        lm: bool = True,
        reread: bool = True,
        orient: Any = True,
    ) -> None:
        from .detection import load_detector
        from .orientation import load_orienter
        from .recognition import load_recognizer

        if detector is False:
            self.detector = None
        elif detector is None or isinstance(detector, (str, Path)):
            self.detector = load_detector(detector, threads=threads)
        else:
            self.detector = detector
        if recognizer is None or isinstance(recognizer, (str, Path)):
            self.recognizer = load_recognizer(
                recognizer, threads=threads, batch_size=batch_size, lm=lm, reread=reread
            )
        else:
            self.recognizer = recognizer
        self.layout = layout if layout is not None else ColumnLayout()
        if orient is True:  # the installed default orientation model, when there is one
            try:
                self.orienter = load_orienter(threads=threads) if self.detector is not None else None
            except ModelError:
                self.orienter = None
        elif orient is False or orient is None:
            self.orienter = None
        elif isinstance(orient, (str, Path)):
            self.orienter = load_orienter(orient, threads=threads)
        else:
            self.orienter = orient
        self.dpi = dpi
        self.max_pixels = max_pixels
        self.max_pages = max_pages
        self.min_score = min_score

    # ------------------------------------------------------------------ public

    def read(self, source: Any, *, mode: str = "page", name: str | None = None) -> Document:
        """Read every page of ``source`` (path, bytes, ndarray, PIL image). ``mode="line"``: the input is
        one text line (recognition only). Raises InputError for bad input."""
        name = name or source_name(source)
        return Document(list(self.iter_pages(source, mode=mode, name=name)), source=name)

    def iter_pages(self, source: Any, *, mode: str = "page", name: str | None = None) -> Iterator[Page]:
        """Like :meth:`read` but yields each Page as soon as it is read."""
        if mode not in ("page", "line"):
            raise ValueError("mode must be 'page' or 'line'")
        if mode == "page" and self.detector is None:
            raise ShiziError("this Reader has no detector; use mode='line'")
        name = name or source_name(source)
        pages = iter_pages(
            source, dpi=self.dpi, max_pixels=self.max_pixels, max_pages=self.max_pages, name=name
        )
        for index, image in enumerate(pages):
            if mode == "line":
                yield self.read_line_image(image, index=index)
            else:
                yield self.read_page_image(image, index=index)

    def read_many(
        self, sources: Iterable[Any], *, mode: str = "page", workers: int = 2
    ) -> Iterator[tuple[Any, Document | InputError]]:
        """Read several inputs with a thread pool sharing this Reader; yields ``(source, Document or
        InputError)`` in input order, so one bad input never stops the others."""

        def one(src: Any) -> Document | InputError:
            try:
                return self.read(src, mode=mode)
            except InputError as e:
                return e

        srcs = list(sources)
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            yield from zip(srcs, pool.map(one, srcs), strict=True)

    def read_page_image(self, image: np.ndarray, index: int = 0) -> Page:
        """Turn one RGB uint8 page upright (with an orienter), detect, recognise and arrange it; the
        result's polygons are in the coordinates of ``image`` as given."""
        rotation = self.orienter.orient(image).rotation if self.orienter is not None else 0
        if rotation == 0:
            return self._read_upright(image, index)
        page = self._read_upright(turn_upright(image, rotation), index)
        h, w = image.shape[:2]
        page.map_polygons(lambda pts: upright_to_page(pts, rotation, w, h))
        page.width, page.height, page.rotation, page.image = w, h, rotation, image
        return page

    def _read_upright(self, image: np.ndarray, index: int) -> Page:
        h, w = image.shape[:2]
        polys, scores = self.detect_lines(image)
        keep = [k for k, s in enumerate(scores) if s >= self.min_score]
        polys = [polys[k] for k in keep]
        crops, inverses, vertical = [], [], []
        for p in polys:
            crop, m_inv, vert = self.line_crop(image, p)
            crops.append(crop)
            inverses.append(m_inv)
            vertical.append(vert)
        results = self.recognizer.recognize(crops) if crops else []
        lines = [
            self._make_line(p, r, c, m, v)
            for p, r, c, m, v in zip(polys, results, crops, inverses, vertical, strict=True)
        ]
        order = self.layout.arrange([np.asarray(p, dtype=np.float64) for p in polys]) if lines else []
        blocks = []
        for blk in order:
            bl = [lines[i] for i in blk if lines[i].text.strip()]
            if bl:
                blocks.append(Block(bl))
        return Page(index=index, width=w, height=h, blocks=blocks, image=image)

    def read_line_image(self, image: np.ndarray, index: int = 0) -> Page:
        """Recognise an RGB uint8 image that holds one text line (no detection)."""
        h, w = image.shape[:2]
        quad = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
        crop, m_inv = image, np.eye(3)
        vert = h > 1.5 * w
        if vert:
            crop, m_inv = turn_vertical(crop, m_inv)
        result = self.recognizer.recognize([crop])[0]
        line = self._make_line(quad, result, crop, m_inv, vert)
        blocks = [Block([line])] if line.text.strip() else []
        return Page(index=index, width=w, height=h, blocks=blocks, image=image)

    # ------------------------------------------------------------------ stages and helpers

    def detect_lines(self, image: np.ndarray) -> tuple[list[np.ndarray], list[float]]:
        """The detector stage alone: line polygons ([K, 2] float arrays, page pixels) and scores."""
        out = self.detector.detect(image)
        if isinstance(out, Detections) or (
            isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], list)
        ):
            polys, scores = list(out[0]), [float(s) for s in out[1]]
        else:
            polys = list(out)
            scores = [1.0] * len(polys)
        return [np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in polys], scores

    @staticmethod
    def line_crop(
        image: np.ndarray, poly: np.ndarray, side_pad: float = SIDE_PAD
    ) -> tuple[np.ndarray, np.ndarray, bool]:
        """The recognizer stage's crop for ``poly``: (crop, crop-to-page 3x3 matrix, vertical); see
        :func:`shizi.recognition.crops.crop_line`."""
        return crop_line(image, poly, side_pad)

    @staticmethod
    def _make_line(
        poly: np.ndarray, r: RecognitionResult, crop: np.ndarray, m_inv: np.ndarray, vertical: bool
    ) -> Line:
        ch = crop.shape[0]
        spans = list(r.char_spans or [(x - 1, x + 1) for x in r.char_x])[: len(r.text)]
        # every char's box in one homography call: corners (x0,0) (x1,0) (x1,h) (x0,h) of each span
        sp = np.asarray(spans, dtype=np.float64).reshape(-1, 2)
        corners = np.stack([sp[:, [0, 1, 1, 0]], np.tile([0.0, 0.0, ch, ch], (len(sp), 1))], axis=-1)
        boxes: list[list[tuple[float, float]]] = []
        if len(sp):
            quads = np.round(map_points(m_inv, corners.reshape(-1, 2)), 2).reshape(-1, 4, 2)
            boxes = [[(x, y) for x, y in q] for q in quads.tolist()]
        chars: list[Char] = []
        for k, ch_text in enumerate(r.text):
            cpoly = boxes[k] if k < len(boxes) else []
            conf = r.char_confidences[k] if k < len(r.char_confidences) else r.confidence
            chars.append(Char(ch_text, float(conf), cpoly))
        return Line(r.text, float(r.confidence), _poly(poly), build_words(r.text, chars), vertical)


__all__ = ["Reader"]
