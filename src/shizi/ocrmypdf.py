"""OCRmyPDF plugin: shizi as OCRmyPDF's OCR engine (``pip install 'shizi[ocrmypdf]'``).

    ocrmypdf -l chi_sim+eng scan.pdf out.pdf                      # installed with the extra: used by default
    ocrmypdf --plugin shizi.ocrmypdf -l chi_sim scan.pdf out.pdf  # or named explicitly
    ocrmypdf --ocr-engine tesseract ...                           # Tesseract again, where installed

The engine implements OCRmyPDF 17's ``generate_ocr``: each page image becomes an ``OcrElement`` tree
(page → paragraph per shizi block → line → word → character, with boxes and confidences); OCRmyPDF's
fpdf2 renderer makes the text layer. Words are what spaces separate in shizi's line text (a run of
CJK characters and digits is one word, its characters its children), so no space is put between
Chinese characters in the text layer. ``get_orientation`` is
shizi's page-orientation model, ``get_deskew`` the median angle of the detected lines. OCRmyPDF runs
engines in worker processes (or threads): each process loads one Reader with one onnxruntime thread.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path

import numpy as np
from ocrmypdf import hookimpl
from ocrmypdf.hocrtransform import BoundingBox, OcrClass, OcrElement
from ocrmypdf.pluginspec import OcrEngine, OrientationConfidence

LANGUAGES = {"chi_sim", "chi_tra", "eng"}
#: OCRmyPDF rotates a page when the engine's confidence reaches --rotate-pages-threshold (default 14,
#: on Tesseract's scale); shizi's probability is scaled so that its own threshold (0.7) lands there
_CONF_SCALE = 20.0

_LOCK = threading.Lock()
_READERS: dict[tuple, object] = {}


def _reader(options=None):
    """This process's Reader for the models ``--shizi-det`` / ``--shizi-rec`` name (default: installed)."""
    key = (getattr(options, "shizi_det", None), getattr(options, "shizi_rec", None))
    with _LOCK:
        r = _READERS.get(key)
        if r is None:
            from .reader import Reader

            r = _READERS[key] = Reader(detector=key[0], recognizer=key[1], threads=1)
        return r


def _image(path: Path) -> tuple[np.ndarray, float]:
    from PIL import Image

    with Image.open(path) as im:
        dpi = im.info.get("dpi", (300, 300))
        return np.asarray(im.convert("RGB")), float(dpi[0] if isinstance(dpi, tuple) else dpi)


def _bbox(poly) -> BoundingBox | None:
    if not poly:
        return None
    xs = [p[0] for p in poly]
    ys = [p[1] for p in poly]
    return BoundingBox(left=min(xs), top=min(ys), right=max(xs), bottom=max(ys))


def _chars(chars) -> list[OcrElement]:
    return [OcrElement(ocr_class=OcrClass.CHAR, bbox=_bbox(c.polygon), text=c.text,
                       confidence=float(c.confidence)) for c in chars if c.polygon]


def _words(line) -> list[OcrElement]:
    """The line's words as the text layer's words: shizi's words (a Latin run, or one CJK character)
    with no space between them in the line's text are one word, so nothing comes between 2023年2月
    or between Chinese characters when the layer is extracted."""
    groups: list[list] = []
    for w, spaced in line.spaced_words():
        if spaced or not groups:
            groups.append([w])
        else:
            groups[-1].append(w)
    out = []
    for g in groups:
        box = _bbox([p for w in g for p in (w.polygon or [])])
        if box is None:
            continue
        text = "".join(w.text for w in g)
        conf = float(np.mean([w.confidence for w in g]))
        out.append(OcrElement(ocr_class=OcrClass.WORD, bbox=box, text=text, confidence=conf,
                              language="eng" if text.isascii() else "chi_sim",
                              children=_chars([c for w in g for c in w.chars])))
    return out


def page_tree(page, dpi: float, page_number: int) -> OcrElement:
    """One shizi Page as OCRmyPDF's OcrElement tree."""
    paragraphs = []
    for block in page.blocks:
        lines = []
        for ln in block.lines:
            words = _words(ln)
            if words:
                lines.append(OcrElement(ocr_class=OcrClass.LINE, bbox=_bbox(ln.polygon), children=words,
                                        text=ln.text, confidence=float(ln.confidence), direction="ltr",
                                        textangle=90.0 if ln.vertical else None))
        if lines:
            paragraphs.append(OcrElement(ocr_class=OcrClass.PARAGRAPH, bbox=_bbox(block.polygon),
                                         children=lines))
    return OcrElement(ocr_class=OcrClass.PAGE, bbox=BoundingBox(left=0, top=0, right=page.width,
                                                                bottom=page.height),
                      dpi=dpi, page_number=page_number, children=paragraphs)


class ShiziOcrEngine(OcrEngine):
    @staticmethod
    def version() -> str:
        from . import __version__

        return __version__

    @staticmethod
    def creator_tag(options) -> str:
        return f"shizi {ShiziOcrEngine.version()}"

    def __str__(self) -> str:
        return f"shizi {self.version()}"

    @staticmethod
    def languages(options) -> set[str]:
        return set(LANGUAGES)

    @staticmethod
    def get_orientation(input_file: Path, options) -> OrientationConfidence:
        """OCRmyPDF's angle is the page's clockwise turn; shizi's rotation the clockwise correction."""
        reader = _reader(options)
        if reader.orienter is None:
            return OrientationConfidence(angle=0, confidence=0.0)
        image, _ = _image(input_file)
        o = reader.orienter.orient(image)
        return OrientationConfidence(angle=(360 - o.rotation) % 360, confidence=_CONF_SCALE * o.confidence)

    @staticmethod
    def get_deskew(input_file: Path, options) -> float:
        """Median angle (degrees, counter-clockwise correction) of the detected horizontal lines."""
        image, _ = _image(input_file)
        polys, _ = _reader(options).detect_lines(image)
        angles = []
        for p in polys:
            if len(p) == 4:
                (x0, y0), (x1, y1) = p[0], p[1]
                if abs(x1 - x0) > 2 * abs(y1 - y0) and abs(x1 - x0) > 20:
                    angles.append(math.degrees(math.atan2(y1 - y0, x1 - x0)))
        return float(np.median(angles)) if angles else 0.0

    @staticmethod
    def supports_generate_ocr() -> bool:
        return True

    @staticmethod
    def generate_ocr(input_file: Path, options, page_number: int = 0) -> tuple[OcrElement, str]:
        image, dpi = _image(input_file)
        page = _reader(options).read_page_image(image, index=page_number)
        return page_tree(page, dpi, page_number), page.text()

    @staticmethod
    def generate_hocr(input_file: Path, output_hocr: Path, output_text: Path, options) -> None:
        from .document import Document
        from .export import render

        image, _ = _image(input_file)
        doc = Document([_reader(options).read_page_image(image)], source=str(input_file))
        Path(output_hocr).write_bytes(render(doc, "hocr"))
        Path(output_text).write_text(doc.text(), encoding="utf-8")

    @staticmethod
    def generate_pdf(input_file: Path, output_pdf: Path, output_text: Path, options) -> None:
        raise NotImplementedError("shizi makes the text layer with OCRmyPDF's fpdf2 renderer "
                                  "(--pdf-renderer auto or fpdf2)")


_TESSERACT = "ocrmypdf.builtin_plugins.tesseract_ocr"


@hookimpl
def initialize(plugin_manager):
    """Without a Tesseract on the PATH, OCRmyPDF's Tesseract plugin refuses to start in its
    ``check_options`` even when shizi does the OCR. Then that plugin is registered again without
    that one check (its options, which OCRmyPDF's validation reads, stay); with Tesseract installed
    nothing changes and ``--ocr-engine tesseract`` still works."""
    import shutil
    import types

    tess = plugin_manager.get_plugin(_TESSERACT)
    if shutil.which("tesseract") is not None or tess is None:
        return
    hooks = {name: getattr(tess, name) for name in ("register_options", "add_options", "validate",
                                                    "filter_ocr_image") if hasattr(tess, name)}
    plugin_manager.unregister(tess)
    plugin_manager.register(types.SimpleNamespace(**hooks), name=_TESSERACT + ".options")


@hookimpl
def add_options(parser):
    """``--ocr-engine shizi`` and the models: ``--shizi-det`` / ``--shizi-rec`` (name or folder)."""
    for action in parser._actions:  # noqa: SLF001 - argparse has no public way to extend choices
        if "--ocr-engine" in action.option_strings and action.choices is not None:
            action.choices = [*action.choices, "shizi"]
    group = parser.add_argument_group("shizi", "shizi OCR engine")
    group.add_argument("--shizi-det", metavar="NAME", help="shizi detection model name or folder")
    group.add_argument("--shizi-rec", metavar="NAME", help="shizi recognition model name or folder")


@hookimpl
def get_ocr_engine(options):
    """shizi for ``--ocr-engine auto`` (the default, once this plugin is installed) or ``shizi``."""
    if options is not None and getattr(options, "ocr_engine", "auto") not in ("auto", "shizi"):
        return None
    return ShiziOcrEngine()
