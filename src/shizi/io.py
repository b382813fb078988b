"""Loading inputs into pages: RGB ``uint8`` arrays of shape ``(H, W, 3)``.

Accepted inputs: a path (``str`` / ``os.PathLike``), ``bytes``, a numpy array, a PIL image.
Formats: PNG, JPEG, BMP, WebP, GIF (first frame), TIFF (every page) and PDF (every page rasterised
with pypdfium2 at ``dpi``, default 200). EXIF orientation is applied; grey, alpha (composited on
white), palette, CMYK and 16-bit images are converted.

Every problem is raised as :class:`shizi.errors.InputError` naming the input and the problem.
Limits against decompression bombs: ``max_pixels`` per page (default 100 MP) and ``max_pages``
per input (default 500).
"""

from __future__ import annotations

import io
import os
import re
import stat
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageFile, ImageOps

from .errors import InputError

DEFAULT_DPI = 200
DEFAULT_MAX_PIXELS = 100_000_000
DEFAULT_MAX_PAGES = 500
DEFAULT_MAX_BYTES = 512 * 1024 * 1024

# pdfium is not thread-safe: every pypdfium2 call goes through this lock.
_PDFIUM_LOCK = threading.RLock()

ImageFile.LOAD_TRUNCATED_IMAGES = False
# shizi checks pixel counts itself (max_pixels); Pillow's warning would only be noise.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


@dataclass(frozen=True)
class Limits:
    """Input limits. ``max_pixels``: per page; ``max_pages``: per input; ``max_bytes``: per file read."""

    max_pixels: int = DEFAULT_MAX_PIXELS
    max_pages: int = DEFAULT_MAX_PAGES
    max_bytes: int = DEFAULT_MAX_BYTES
    dpi: int = DEFAULT_DPI


def source_name(source: Any) -> str:
    """A human name for an input, used in error messages."""
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "<bytes>"
    if isinstance(source, np.ndarray):
        return "<array>"
    if isinstance(source, Image.Image):
        return getattr(source, "filename", "") or "<PIL image>"
    return f"<{type(source).__name__}>"


def load_pages(
    source: Any,
    *,
    dpi: int = DEFAULT_DPI,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_pages: int = DEFAULT_MAX_PAGES,
    name: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[np.ndarray]:
    """Load every page of ``source`` as RGB uint8 arrays. Raises :class:`InputError`."""
    return list(iter_pages(source, dpi=dpi, max_pixels=max_pixels, max_pages=max_pages, name=name,
                           max_bytes=max_bytes))


def iter_pages(
    source: Any,
    *,
    dpi: int = DEFAULT_DPI,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_pages: int = DEFAULT_MAX_PAGES,
    name: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Iterator[np.ndarray]:
    """Yield the pages of ``source`` one by one (page count and sizes are checked before decoding)."""
    for image, _ in iter_page_images(source, dpi=dpi, max_pixels=max_pixels, max_pages=max_pages,
                                     name=name, max_bytes=max_bytes):
        yield image


def iter_page_images(
    source: Any,
    *,
    dpi: int = DEFAULT_DPI,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_pages: int = DEFAULT_MAX_PAGES,
    name: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Iterator[tuple[np.ndarray, int | None]]:
    """Like :func:`iter_pages`, each page with the dpi it was rasterised at (PDF pages; None for
    images, whose pixels are their own)."""
    name = name or source_name(source)
    if isinstance(source, np.ndarray):
        yield array_to_rgb(source, name=name, max_pixels=max_pixels), None
        return
    if isinstance(source, Image.Image):
        yield _pil_to_rgb(source, name, max_pixels), None
        return
    if isinstance(source, (str, os.PathLike)):
        data = _read_file(source, name, max_bytes)
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        raise InputError(
            name,
            f"unsupported input type {type(source).__name__} "
            "(expected a path, bytes, numpy array or PIL image)",
            "unsupported",
        )
    if len(data) == 0:
        raise InputError(name, "empty file (0 bytes)", "empty")
    if _looks_like_pdf(data):
        for image in _iter_pdf(data, name, dpi, max_pixels, max_pages):
            yield image, dpi
    else:
        for image in _iter_image_bytes(data, name, max_pixels, max_pages):
            yield image, None


def check_file(path: str | os.PathLike, name: str, max_bytes: int = DEFAULT_MAX_BYTES) -> os.stat_result:
    """``path``'s stat when it is a regular file of at most ``max_bytes``; else InputError (a
    directory, FIFO, socket, device such as ``/dev/zero``, a symlink loop, a missing or unreadable
    file), decided before the file is opened."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(name, "file not found", "not_found") from None
    except PermissionError:
        raise InputError(name, "permission denied (file is unreadable)", "unreadable") from None
    except OSError as e:
        raise InputError(name, f"cannot read file ({e.strerror or e})", "unreadable") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(name, "is a directory, not a file", "not_a_file")
    if not stat.S_ISREG(st.st_mode):
        what = ("a FIFO" if stat.S_ISFIFO(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode)
                else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "special")
        raise InputError(name, f"is {what}, not a regular file", "not_a_file")
    if st.st_size > max_bytes:
        raise InputError(name, f"file too large ({st.st_size:,} bytes, limit {max_bytes:,})", "too_large")
    return st


def _read_file(path: str | os.PathLike, name: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (:func:`check_file`), so a read can
    neither block nor grow without end."""
    check_file(path, name, max_bytes)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):  # swapped since the stat
                raise InputError(name, "is not a regular file", "not_a_file")
            data = f.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError(name, "file not found", "not_found") from None
    except PermissionError:
        raise InputError(name, "permission denied (file is unreadable)", "unreadable") from None
    except OSError as e:
        raise InputError(name, f"cannot read file ({e.strerror or e})", "unreadable") from None
    if len(data) > max_bytes:  # grew since the stat
        raise InputError(name, f"file too large (over the limit of {max_bytes:,} bytes)", "too_large")
    return data


def _looks_like_pdf(data: bytes) -> bool:
    return b"%PDF-" in data[:1024]


# ---------------------------------------------------------------- images


def _iter_image_bytes(data: bytes, name: str, max_pixels: int, max_pages: int) -> Iterator[np.ndarray]:
    try:
        im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise InputError(name, f"image has too many pixels (limit {max_pixels:,})", "too_large") from None
    except Image.UnidentifiedImageError:
        raise InputError(name, "unsupported file type (not a readable image or PDF)", "unsupported") from None
    except Exception as e:  # noqa: BLE001 - any decoder failure is a bad input
        raise InputError(name, f"unreadable image ({e})") from None
    with im:
        try:
            n = getattr(im, "n_frames", 1) if im.format in ("TIFF", "MPO") else 1
        except Exception as e:  # noqa: BLE001 - Pillow's decoders raise KeyError, struct.error, ...
            raise InputError(name, f"corrupt image structure ({type(e).__name__}: {e})") from None
        if n > max_pages:
            raise InputError(name, f"too many pages ({n}, limit {max_pages})", "too_large")
        for i in range(n):
            try:
                if n > 1:
                    im.seek(i)
            except EOFError:
                raise InputError(name, f"truncated multi-page image (page {i + 1} of {n} missing)") from None
            except Exception as e:  # noqa: BLE001
                msg = f"page {i + 1}: corrupt image structure ({type(e).__name__}: {e})"
                raise InputError(name, msg) from None
            yield _pil_to_rgb(im, name, max_pixels, page=i if n > 1 else None)


def _pil_to_rgb(im: Image.Image, name: str, max_pixels: int, page: int | None = None) -> np.ndarray:
    where = "" if page is None else f"page {page + 1}: "
    w, h = im.size
    if w == 0 or h == 0:
        raise InputError(name, f"{where}image has zero size ({w}x{h})", "empty")
    if w * h > max_pixels:
        raise InputError(
            name, f"{where}image has too many pixels ({w}x{h} = {w * h:,}, limit {max_pixels:,})", "too_large"
        )
    try:
        im.load()
        im = ImageOps.exif_transpose(im) or im
        return _to_rgb_array(im)
    except OSError as e:
        msg = str(e)
        if "truncated" in msg or "broken data stream" in msg or "premature end" in msg.lower():
            raise InputError(name, f"{where}truncated image file ({msg})") from None
        raise InputError(name, f"{where}corrupt or unreadable image data ({msg})") from None
    except (MemoryError, InputError):
        raise
    except Exception as e:  # noqa: BLE001 - Pillow's decoders raise ValueError, KeyError, struct.error, ...
        raise InputError(name, f"{where}corrupt or unreadable image data ({type(e).__name__}: {e})") from None


def _to_rgb_array(im: Image.Image) -> np.ndarray:
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        a = np.asarray(im, dtype=np.float64)
        if mode.startswith("I;16"):
            a = a / 257.0
        else:
            lo, hi = float(a.min()), float(a.max())
            a = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a)
        g = np.clip(np.rint(a), 0, 255).astype(np.uint8)
        return np.repeat(g[:, :, None], 3, axis=2)
    if mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
    elif mode == "P":
        im = im.convert("RGB")
    if im.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        im = im.convert("RGBA")
        bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(bg, im)
    if im.mode != "RGB":
        im = im.convert("RGB")
    return np.ascontiguousarray(np.asarray(im, dtype=np.uint8))


def array_to_rgb(a: np.ndarray, *, name: str = "<array>", max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Normalise an array to RGB uint8 ``(H, W, 3)``.

    Accepts ``(H, W)`` grey, ``(H, W, 1)``, ``(H, W, 3)`` RGB, ``(H, W, 4)`` RGBA; uint8, uint16
    (scaled by 1/257), bool, or float in ``[0, 1]``.
    """
    if not isinstance(a, np.ndarray):
        raise InputError(name, f"expected a numpy array, got {type(a).__name__}", "unsupported")
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise InputError(name, f"unsupported array shape {a.shape} (expected HxW, HxWx3 or HxWx4)",
                         "unsupported")
    h, w = a.shape[:2]
    if h == 0 or w == 0:
        raise InputError(name, f"image has zero size ({w}x{h})", "empty")
    if h * w > max_pixels:
        raise InputError(name, f"image has too many pixels ({w}x{h} = {w * h:,}, limit {max_pixels:,})",
                         "too_large")
    if a.dtype == np.uint8:
        pass
    elif a.dtype == np.uint16:
        a = np.clip(np.rint(a / 257.0), 0, 255).astype(np.uint8)
    elif a.dtype == bool:
        a = a.astype(np.uint8) * 255
    elif np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all():
            raise InputError(name, "array contains NaN or infinite values")
        if a.min() < 0.0 or a.max() > 1.0:  # 0-255 floats would all clip to white: say so
            raise InputError(name, f"float array values must lie in 0-1 (found {a.min():g} to {a.max():g}); "
                                   "pass uint8 for 0-255", "unsupported")
        a = np.clip(np.rint(a * 255.0), 0, 255).astype(np.uint8)
    elif np.issubdtype(a.dtype, np.integer):
        a = np.clip(a, 0, 255).astype(np.uint8)
    else:
        raise InputError(name, f"unsupported array dtype {a.dtype}", "unsupported")
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    elif a.shape[2] == 4:
        alpha = a[:, :, 3:4].astype(np.float32) / 255.0
        a = np.rint(a[:, :, :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    return np.ascontiguousarray(a)


# ---------------------------------------------------------------- PDF


def _iter_pdf(data: bytes, name: str, dpi: int, max_pixels: int, max_pages: int) -> Iterator[np.ndarray]:
    import pypdfium2 as pdfium

    scale = dpi / 72.0
    with _PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as e:
            msg = str(e).lower()
            if "password" in msg:
                raise InputError(name, "encrypted PDF (a password is required)", "encrypted") from None
            # PDFium refuses a document whose page tree is empty, and its error code is then stale
            if re.search(rb"/Count\s+0\b", data) and not re.search(rb"/Type\s*/Page\b", data):
                raise InputError(name, "PDF has no pages (its page tree is empty)", "empty") from None
            raise InputError(name, f"broken or unreadable PDF ({e})") from None
        try:
            n = len(pdf)
        except Exception as e:  # noqa: BLE001
            pdf.close()
            raise InputError(name, f"broken or unreadable PDF ({e})") from None
    try:
        if n == 0:
            raise InputError(name, "PDF has no pages", "empty")
        if n > max_pages:
            raise InputError(name, f"too many pages ({n}, limit {max_pages})", "too_large")
        for i in range(n):
            with _PDFIUM_LOCK:
                try:
                    page = pdf[i]
                    wpt, hpt = page.get_size()
                    w, h = int(round(wpt * scale)), int(round(hpt * scale))
                    if w * h > max_pixels:
                        raise InputError(
                            name,
                            f"page {i + 1}: too many pixels at {dpi} dpi "
                            f"({w}x{h} = {w * h:,}, limit {max_pixels:,})",
                            "too_large",
                        )
                    if w <= 0 or h <= 0:
                        raise InputError(name, f"page {i + 1}: zero-size page", "empty")
                    bitmap = page.render(scale=scale, rev_byteorder=True, fill_color=(255, 255, 255, 255))
                    arr = np.array(bitmap.to_numpy(), copy=True)
                    page.close()
                except pdfium.PdfiumError as e:
                    raise InputError(name, f"page {i + 1}: broken PDF page ({e})") from None
            if arr.ndim == 2:
                arr = np.repeat(arr[:, :, None], 3, axis=2)
            yield np.ascontiguousarray(arr[:, :, :3])
    finally:
        with _PDFIUM_LOCK:
            pdf.close()
