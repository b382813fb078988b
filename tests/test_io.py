"""Inputs: every accepted kind and format, and every bad-input case with its message."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from shizi import InputError, ShiziError
from shizi.io import array_to_rgb, load_pages


def _png_bytes(im: Image.Image, **kw) -> bytes:
    b = io.BytesIO()
    im.save(b, "PNG", **kw)
    return b.getvalue()


def _pattern(w: int = 60, h: int = 40) -> np.ndarray:
    a = np.full((h, w, 3), 255, np.uint8)
    a[10:20, 5:30] = (200, 10, 10)
    return a


def _pdf_bytes(pages: int = 2, size=(144, 72), **canvas_kw) -> bytes:
    from reportlab.pdfgen import canvas

    b = io.BytesIO()
    c = canvas.Canvas(b, pagesize=size, **canvas_kw)
    for i in range(pages):
        c.drawString(10, 30, f"page {i + 1}")
        c.showPage()
    c.save()
    return b.getvalue()


# ----------------------------------------------------------------------------- good inputs


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "WEBP", "TIFF", "GIF"])
def test_formats_from_path(tmp_path: Path, fmt: str):
    p = tmp_path / f"x.{fmt.lower()}"
    Image.fromarray(_pattern()).save(p, fmt)
    pages = load_pages(p)
    assert len(pages) == 1
    a = pages[0]
    assert a.shape == (40, 60, 3) and a.dtype == np.uint8
    assert a[0, 0].min() > 240 and a[15, 10, 0] > 150 and a[15, 10, 1] < 80


def test_bytes_ndarray_pil_inputs():
    arr = _pattern()
    im = Image.fromarray(arr)
    for src in (_png_bytes(im), arr, im, bytearray(_png_bytes(im))):
        (page,) = load_pages(src)
        assert np.array_equal(page, arr)


def test_multipage_tiff(tmp_path: Path):
    p = tmp_path / "multi.tif"
    frames = [Image.fromarray(np.full((30, 40, 3), v, np.uint8)) for v in (0, 100, 200)]
    frames[0].save(p, save_all=True, append_images=frames[1:])
    pages = load_pages(p)
    assert [int(pg[0, 0, 0]) for pg in pages] == [0, 100, 200]


def test_pdf_rasterised_at_dpi(tmp_path: Path):
    p = tmp_path / "doc.pdf"
    p.write_bytes(_pdf_bytes(pages=2, size=(144, 72)))  # 2 x 1 inch
    pages = load_pages(p)
    assert len(pages) == 2 and pages[0].shape == (200, 400, 3)  # default 200 dpi
    assert load_pages(p, dpi=100)[0].shape == (100, 200, 3)
    assert pages[0].min() < 128  # the text was rendered


def test_exif_orientation(tmp_path: Path):
    im = Image.fromarray(_pattern(60, 40))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° CW on display
    p = tmp_path / "rot.jpg"
    im.save(p, "JPEG", exif=exif.tobytes())
    (page,) = load_pages(p)
    assert page.shape == (60, 40, 3)


def test_grey_alpha_palette_16bit():
    grey = Image.fromarray(np.full((10, 12), 77, np.uint8), "L")
    assert load_pages(_png_bytes(grey))[0][0, 0].tolist() == [77, 77, 77]

    rgba = np.zeros((10, 12, 4), np.uint8)  # fully transparent black → white
    rgba[:5, :, :] = (0, 0, 255, 255)
    page = load_pages(_png_bytes(Image.fromarray(rgba, "RGBA")))[0]
    assert page[8, 0].tolist() == [255, 255, 255] and page[0, 0].tolist() == [0, 0, 255]

    pal = Image.fromarray(_pattern()).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    assert load_pages(_png_bytes(pal))[0].shape == (40, 60, 3)

    pal_t = pal.copy()
    pal_t.info["transparency"] = 0
    assert load_pages(_png_bytes(pal_t, transparency=0))[0].shape == (40, 60, 3)

    a16 = np.full((8, 9), 65535, np.uint16)
    a16[0, 0] = 0
    p16 = load_pages(_png_bytes(Image.fromarray(a16)))[0]
    assert p16[1, 1].tolist() == [255, 255, 255] and p16[0, 0].tolist() == [0, 0, 0]


def test_array_variants():
    assert array_to_rgb(np.zeros((4, 5), np.uint16)).shape == (4, 5, 3)
    assert array_to_rgb(np.ones((4, 5, 1), np.float32))[0, 0].tolist() == [255, 255, 255]
    assert array_to_rgb(np.zeros((4, 5), bool)).max() == 0
    rgba = np.zeros((2, 2, 4), np.uint8)
    assert array_to_rgb(rgba)[0, 0].tolist() == [255, 255, 255]


# ----------------------------------------------------------------------------- bad inputs


def _err(src, **kw) -> InputError:
    with pytest.raises(InputError) as ei:
        load_pages(src, **kw)
    assert isinstance(ei.value, ShiziError)
    return ei.value


def test_missing_file_and_directory(tmp_path: Path):
    e = _err(tmp_path / "nope.png")
    assert e.source.endswith("nope.png") and "file not found" in str(e) and e.kind == "not_found"
    e = _err(tmp_path)
    assert "is a directory" in str(e) and e.kind == "not_a_file"


def test_zero_byte_file(tmp_path: Path):
    p = tmp_path / "empty.png"
    p.write_bytes(b"")
    e = _err(p)
    assert str(e) == f"{p}: empty file (0 bytes)" and e.kind == "empty"


def test_zero_size_image():
    e = _err(np.zeros((0, 10, 3), np.uint8))
    assert "zero size" in str(e)
    e = _err(Image.new("RGB", (0, 5)))
    assert "zero size" in str(e)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_image(tmp_path: Path, fmt: str):
    rng = np.random.default_rng(0)
    b = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (200, 200, 3), dtype=np.uint8)).save(b, fmt)
    p = tmp_path / f"cut.{fmt.lower()}"
    p.write_bytes(b.getvalue()[: len(b.getvalue()) // 2])
    e = _err(p)
    assert e.source == str(p) and "truncated" in e.problem and e.kind == "broken"


def test_unsupported_type(tmp_path: Path):
    p = tmp_path / "notes.txt"
    p.write_text("just some text\n")
    e = _err(p)
    assert "unsupported file type" in str(e) and e.source == str(p) and e.kind == "unsupported"
    e = _err(bytes(range(256)) * 4)
    assert "unsupported file type" in str(e) and e.source == "<bytes>"
    e = _err(12345)
    assert "unsupported input type int" in str(e)
    e = _err(np.zeros((3, 3, 7), np.uint8))
    assert "unsupported array shape" in str(e)


def test_encrypted_pdf(tmp_path: Path):
    p = tmp_path / "secret.pdf"
    p.write_bytes(_pdf_bytes(pages=1, encrypt="s3cret"))
    e = _err(p)
    assert e.source == str(p) and "encrypted PDF" in e.problem and e.kind == "encrypted"


def test_broken_pdf(tmp_path: Path):
    p = tmp_path / "broken.pdf"
    p.write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\ngarbage garbage\n")
    e = _err(p)
    assert "broken or unreadable PDF" in e.problem
    good = _pdf_bytes(pages=3)
    p.write_bytes(good[: len(good) // 3])
    e = _err(p)
    assert "PDF" in e.problem


def test_too_many_pixels(tmp_path: Path):
    e = _err(np.zeros((200, 300), np.uint8), max_pixels=10_000)
    assert "too many pixels" in str(e) and "limit 10,000" in str(e) and e.kind == "too_large"
    p = tmp_path / "big.png"
    Image.new("L", (300, 200)).save(p)
    assert "too many pixels" in str(_err(p, max_pixels=10_000))
    pdf = tmp_path / "big.pdf"
    pdf.write_bytes(_pdf_bytes(pages=1, size=(144, 144)))
    e = _err(pdf, max_pixels=10_000)
    assert "page 1: too many pixels at 200 dpi" in str(e)


def test_decompression_bomb_header(tmp_path: Path):
    """A tiny PNG whose header claims 40000 x 40000 pixels is refused before decoding."""
    raw = bytearray(_png_bytes(Image.new("L", (8, 8))))
    ihdr = raw[12:29]  # b"IHDR" + 13 bytes of data
    ihdr[4:12] = struct.pack(">II", 40000, 40000)
    raw[12:29] = ihdr
    raw[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)) & 0xFFFFFFFF)
    p = tmp_path / "bomb.png"
    p.write_bytes(bytes(raw))
    e = _err(p)
    assert "too many pixels" in e.problem and e.source == str(p)


def test_too_many_pages(tmp_path: Path):
    tif = tmp_path / "pages.tif"
    frames = [Image.new("RGB", (10, 10), (v, v, v)) for v in (0, 50, 100)]
    frames[0].save(tif, save_all=True, append_images=frames[1:])
    assert "too many pages (3, limit 2)" in str(_err(tif, max_pages=2))
    pdf = tmp_path / "pages.pdf"
    pdf.write_bytes(_pdf_bytes(pages=3))
    assert "too many pages (3, limit 2)" in str(_err(pdf, max_pages=2))


# ------------------------------------------------------------------ endless and special files


def test_special_files_are_refused_before_reading(tmp_path: Path):
    """/dev/zero behind a .png name would grow without end and a FIFO would block forever: both, and
    sockets, devices and symlink loops, are refused with kind not_a_file / unreadable."""
    import os
    import socket

    z = tmp_path / "z.png"
    z.symlink_to("/dev/zero")
    e = _err(z)
    assert e.kind == "not_a_file" and "device" in e.problem
    fifo = tmp_path / "f.png"
    os.mkfifo(fifo)
    e = _err(fifo)  # returns at once: no writer is waited for
    assert e.kind == "not_a_file" and "FIFO" in e.problem
    sock_path = tmp_path / "s.png"
    with socket.socket(socket.AF_UNIX) as srv:
        srv.bind(str(sock_path))
        e = _err(sock_path)
        assert e.kind == "not_a_file" and "socket" in e.problem
    loop = tmp_path / "loop.png"
    loop.symlink_to(loop)
    e = _err(loop)
    assert e.kind == "unreadable"


def test_file_over_the_byte_limit(tmp_path: Path):
    p = tmp_path / "a.png"
    p.write_bytes(_png_bytes(Image.new("L", (64, 64), 255)))
    assert load_pages(p, max_bytes=p.stat().st_size)[0].shape == (64, 64, 3)
    e = _err(p, max_bytes=p.stat().st_size - 1)
    assert e.kind == "too_large" and "file too large" in e.problem


def test_float_array_out_of_0_1_is_an_error_not_a_white_page():
    e = _err(np.full((8, 8), 200.0, np.float32))
    assert e.kind == "unsupported" and "0-1" in e.problem


def test_input_error_kinds_are_checked_and_pickle():
    import pickle

    e = InputError("x.png", "file too large", "too_large")
    back = pickle.loads(pickle.dumps(e))
    assert (back.source, back.problem, back.kind) == ("x.png", "file too large", "too_large")
    with pytest.raises(ValueError):
        InputError("x.png", "?", "whatever")


def test_pdf_without_pages_says_so():
    import pypdfium2 as pdfium

    b = io.BytesIO()
    pdfium.PdfDocument.new().save(b)
    e = _err(b.getvalue())
    assert e.kind == "empty" and "no pages" in e.problem and "Success" not in e.problem, e.problem
