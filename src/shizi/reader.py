"""The pipeline: ``Reader(detector=..., recognizer=..., layout=...).read(input) -> Document``.

Stages are replaceable objects:

- detector: ``detect(image RGB uint8) -> Detections(polygons, scores)`` (or a list of polygons);
- recognizer: ``recognize(crops) -> list[RecognitionResult]``;
- layout: ``arrange(polygons) -> list[LayoutBlock]`` (blocks in reading order, each with its kind and
  writing direction; a plain list of line-index lists also works), run before the crops, whose
  orientation follows the direction it decides (:mod:`shizi.layout`).

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
from .geometry import VERTICAL, line_direction
from .io import (
    DEFAULT_DPI,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PAGES,
    DEFAULT_MAX_PIXELS,
    iter_page_images,
    source_name,
)
from .layout import Layout, as_blocks
from .orientation import turn_upright, upright_to_page
from .recognition import RecognitionResult
from .recognition.crops import SIDE_PAD, LineCrop, crop_line, rectified_crop
from .script import check_script, convert_page, converter

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
    ``script``: ``as-printed`` (default), ``simplified`` or ``traditional`` converts the text with
    OpenCC (:mod:`shizi.script`; the ``[script]`` extra).

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
        max_bytes: int = DEFAULT_MAX_BYTES,
        min_score: float = 0.0,
        lm: bool = True,
        reread: bool = True,
        orient: Any = True,
        script: str = "as-printed",
    ) -> None:
        from .detection import load_detector
        from .orientation import load_orienter
        from .recognition import load_recognizer

        for opt, value in (("threads", threads), ("batch_size", batch_size), ("dpi", dpi),
                           ("max_pixels", max_pixels), ("max_pages", max_pages), ("max_bytes", max_bytes)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Reader({opt}=...) must be a positive integer, not {value!r}")

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
        self.layout = layout if layout is not None else Layout()
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
        self.script = check_script(script)
        self.max_pixels = max_pixels
        self.max_pages = max_pages
        self.max_bytes = max_bytes
        self.min_score = min_score

    # ------------------------------------------------------------------ public

    def read(self, source: Any, *, mode: str = "page", name: str | None = None,
             dpi: int | None = None, script: str | None = None) -> Document:
        """Read every page of ``source`` (path, bytes, ndarray, PIL image). ``mode="line"``: the input is
        one text line (recognition only); ``mode="plate"``: the licence plates in it, read with a plate
        recognizer such as ``plate_zh`` (:meth:`read_plates`); ``dpi`` rasterises a PDF and ``script``
        converts the text otherwise than the Reader's settings for this call. Raises InputError for bad
        input."""
        name = name or source_name(source)
        pages = self.iter_pages(source, mode=mode, name=name, dpi=dpi, script=script)
        return Document(list(pages), source=name, models=self.model_names(mode))

    def model_names(self, mode: str = "page") -> dict[str, str]:
        """task -> name of the models this Reader reads with (stages given as objects: their class)."""
        stages = [("recognition", self.recognizer)]
        if mode == "plate":
            stages = [("detection", self.detector)] + stages
        if mode == "page":
            stages = [("detection", self.detector), ("orientation", self.orienter)] + stages
        out = {}
        for task, obj in stages:
            if obj is not None:
                info = getattr(obj, "info", None)
                out[task] = getattr(info, "name", None) or type(obj).__name__
        return out

    def iter_pages(self, source: Any, *, mode: str = "page", name: str | None = None,
                   dpi: int | None = None, script: str | None = None) -> Iterator[Page]:
        """Like :meth:`read` but yields each Page as soon as it is read."""
        if mode not in ("page", "line", "plate"):
            raise ValueError("mode must be 'page', 'line' or 'plate'")
        if dpi is not None and (isinstance(dpi, bool) or not isinstance(dpi, int) or dpi < 1):
            raise ValueError(f"dpi must be a positive integer, not {dpi!r}")
        script = check_script(script or self.script)
        if script != "as-printed":
            converter(script)  # a missing OpenCC is said before any page is read
        if mode in ("page", "plate") and self.detector is None:
            raise ShiziError("this Reader has no detector; use mode='line'")
        name = name or source_name(source)
        pages = iter_page_images(
            source, dpi=dpi or self.dpi, max_pixels=self.max_pixels, max_pages=self.max_pages, name=name,
            max_bytes=self.max_bytes,
        )
        for index, (image, image_dpi) in enumerate(pages):
            if mode == "line":
                page = self.read_line_image(image, index=index)
            elif mode == "plate":
                page = self.read_plates(image, index=index)
            else:
                page = self.read_page_image(image, index=index)
            page.dpi = image_dpi
            yield convert_page(page, script)

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
        polys, scores = self.detect_lines(image)
        return self.read_lines(image, [p for p, s in zip(polys, scores, strict=True) if s >= self.min_score],
                               index)

    def read_lines(self, image: np.ndarray, polys: list[np.ndarray], index: int = 0) -> Page:
        """The stages after detection for lines found elsewhere (``polys``: polygons in page pixels of
        the upright RGB ``image``): layout, crops, recognition."""
        h, w = image.shape[:2]
        polys = [np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in polys]
        order = as_blocks(self.layout.arrange(polys), polys) if polys else []
        vertical = {i: b.direction == VERTICAL for b in order for i in b.lines}
        crops = [self.line_crop(image, p, vertical.get(k, False)) for k, p in enumerate(polys)]
        images = [im for c in crops for im in c.images]
        results = self.recognizer.recognize(images) if images else []
        lines, at = [], 0
        for p, c in zip(polys, crops, strict=True):
            lines.append(self._make_line(p, c, results[at : at + len(c.images)]))
            at += len(c.images)
        blocks = []
        for blk in order:
            bl = [lines[i] for i in blk.lines if lines[i].text.strip()]
            if bl:
                kind = Layout.refine(blk.kind, " ".join(ln.text for ln in bl))
                blocks.append(Block(bl, kind=kind, direction=blk.direction))
        return Page(index=index, width=w, height=h, blocks=blocks, image=image)

    def read_line_image(self, image: np.ndarray, index: int = 0) -> Page:
        """Recognise an RGB uint8 image that holds one text line (no detection); a line image much taller
        than wide is read as a vertical column."""
        h, w = image.shape[:2]
        quad = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
        crop = rectified_crop(image, np.eye(3), line_direction(quad) == VERTICAL)
        line = self._make_line(quad, crop, self.recognizer.recognize(crop.images))
        direction = VERTICAL if crop.vertical else "horizontal"
        blocks = [Block([line], direction=direction)] if line.text.strip() else []
        return Page(index=index, width=w, height=h, blocks=blocks, image=image)

    def read_plates(self, image: np.ndarray, index: int = 0) -> Page:
        """The licence plates in an RGB uint8 photo (:mod:`shizi.plates`): the detector's lines shaped
        like a plate's row of characters, each widened to its plate and read with the recognizer; only
        readings that are plate numbers are kept, one block of kind ``plate`` each. An image shaped
        like a plate itself is read whole when none of its lines reads as one."""
        from .plates import ASPECT, is_plate, plate_quads
        from .recognition.crops import rectify_quad

        h, w = image.shape[:2]
        polys, _ = self.detect_lines(image)
        quads = plate_quads(polys)
        if ASPECT[0] <= w / max(h, 1) <= ASPECT[1] / 1.5:
            quads.append(np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64))
        crops = [rectify_quad(image, q, pad=0.0)[0] for q in quads]
        results = self.recognizer.recognize(crops) if crops else []
        blocks, found = [], set()
        for quad, r in zip(quads, results, strict=True):
            text = r.text.replace(" ", "")
            if is_plate(text) and text not in found:
                found.add(text)
                poly = [(float(x), float(y)) for x, y in quad]
                blocks.append(Block([Line(text, r.confidence, poly)], kind="plate"))
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
    def line_crop(image: np.ndarray, poly: np.ndarray, vertical: bool = False,
                  side_pad: float = SIDE_PAD) -> LineCrop:
        """The recognizer stage's crop for ``poly`` (a column read top to bottom when ``vertical``); see
        :func:`shizi.recognition.crops.crop_line`."""
        return crop_line(image, poly, vertical, side_pad)

    @staticmethod
    def _make_line(poly: np.ndarray, crop: LineCrop, results: list[RecognitionResult]) -> Line:
        text, conf, confs, quads = crop.reading(results)
        chars = [
            Char(ch, float(confs[k] if k < len(confs) else conf), _poly(quads[k]) if k < len(quads) else [])
            for k, ch in enumerate(text)
        ]
        return Line(text, float(conf), _poly(poly), build_words(text, chars), crop.vertical)


__all__ = ["Reader"]
