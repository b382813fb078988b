"""The HTTP service (shizi.service.app) with the tiny test models: real PNG / JPEG / PDF / TIFF uploads,
garbage and broken inputs, limits (413), options (422), saturation (503), timeout (504), concurrency."""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import subprocess
import threading
import time
import warnings
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest
from PIL import Image

from conftest import draw_line, two_column_page

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

import httpx  # noqa: E402

with warnings.catch_warnings():  # starlette's note that its TestClient will move to httpx2
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient  # noqa: E402

from shizi.cli import main as cli_main  # noqa: E402
from shizi.export import jsonl_record, to_text  # noqa: E402
from shizi.service.app import ServiceConfig, create_app  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[1] / "src" / "shizi" / "samples" / "sample.png"


def _png(img: np.ndarray) -> bytes:
    b = io.BytesIO()
    Image.fromarray(img).save(b, "PNG")
    return b.getvalue()


def _jpeg(img: np.ndarray) -> bytes:
    b = io.BytesIO()
    Image.fromarray(img).save(b, "JPEG", quality=95)
    return b.getvalue()


def _pdf(img: np.ndarray, pages: int = 1, **kw) -> bytes:
    """A PDF with ``pages`` pages, each the image at 100 dpi (made with reportlab)."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    h, w = img.shape[:2]
    b = io.BytesIO()
    c = canvas.Canvas(b, pagesize=(w * 72 / 100, h * 72 / 100), **kw)
    for _ in range(pages):
        c.drawImage(ImageReader(Image.fromarray(img)), 0, 0, width=w * 72 / 100, height=h * 72 / 100)
        c.showPage()
    c.save()
    return b.getvalue()


def _tiff(pages: list[np.ndarray]) -> bytes:
    b = io.BytesIO()
    ims = [Image.fromarray(p) for p in pages]
    ims[0].save(b, "TIFF", save_all=True, append_images=ims[1:])
    return b.getvalue()


def _page(pieces: list[int]) -> np.ndarray:
    """A page with one synthetic line per entry (``n`` dark pieces → text "中" * n with the tiny models)."""
    img = np.full((60 + 45 * len(pieces), 480, 3), 255, np.uint8)
    for k, n in enumerate(pieces):
        draw_line(img, 30, 30 + 45 * k, n, piece_w=18, gap=12)
    return img


@pytest.fixture(scope="module")
def config(tiny_models) -> ServiceConfig:
    det, rec = tiny_models
    return ServiceConfig(det=str(det), rec=str(rec), workers=2, queue=8, timeout=30, orient=False)


@pytest.fixture(scope="module")
def client(config):
    with TestClient(create_app(config)) as c:
        yield c


def _client(config: ServiceConfig, **kw) -> TestClient:
    import dataclasses

    return TestClient(create_app(dataclasses.replace(config, **kw)))


def _error(r: httpx.Response, status: int, kind: str | None = None) -> str:
    """The error message of a JSON error answer; ``kind``: the input error's kind it must name."""
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) <= {"error", "kind"} and isinstance(body["error"], str) and body["error"]
    if kind is not None:
        assert body.get("kind") == kind, body
    return body["error"]


# ----------------------------------------------------------------------------- service endpoints


def test_healthz_models_openapi(client):
    h = client.get("/healthz").json()
    assert h["status"] == "ok"
    assert h["models"] == {"detector": "tiny-det", "recognizer": "tiny-rec"}
    assert h["workers"] == 2 and h["running"] == 0
    m = client.get("/v1/models").json()
    # the tiny test models are listed beside whatever models are shipped in the package
    assert "tiny-det" in [x["name"] for x in m["detection"]]
    assert "tiny-rec" in [x["name"] for x in m["recognition"]]
    assert m["defaults"] == {"detector": "tiny-det", "recognizer": "tiny-rec"}
    assert m["limits"]["max_upload_bytes"] > 0 and m["limits"]["max_pages"] > 0
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/v1/ocr"]["post"]
    assert "multipart/form-data" in op["requestBody"]["content"]
    assert "file" in op["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    assert {"format", "dpi", "det", "rec"} <= {p["name"] for p in op["parameters"]}
    assert {"413", "415", "422", "503", "504"} <= set(op["responses"])
    assert "/healthz" in spec["paths"] and "/v1/models" in spec["paths"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert "cdn." not in docs.text  # offline: Swagger UI is served by the app itself


def test_web_page_and_static_files(client):
    r = client.get("/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert 'id="file"' in r.text and "static/app.js" in r.text
    for f in ("app.js", "style.css"):
        assert client.get(f"/static/{f}").status_code == 200
    assert client.get("/static/nope.js").status_code == 404
    r = client.get("/sample.png")
    assert r.status_code == 200 and r.content == SAMPLE.read_bytes()


# ----------------------------------------------------------------------------- real inputs


def test_png_upload_is_the_cli_jsonl_record(client, tiny_models, tmp_path):
    img, order = two_column_page()
    p = tmp_path / "page.png"
    p.write_bytes(_png(img))
    r = client.post("/v1/ocr", files={"file": ("page.png", p.read_bytes(), "image/png")})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    got = r.json()
    assert [ln["text"] for ln in got["pages"][0]["lines"]] == ["中" * n for n in order]
    # exactly what `shizi read -f jsonl` writes for the same file
    det, rec = tiny_models
    out = tmp_path / "out.jsonl"
    args = ["read", str(p), "-f", "jsonl", "--det", str(det), "--rec", str(rec), "--no-orient",
            "-o", str(out)]
    assert cli_main(args) == 0
    cli = json.loads(out.read_text(encoding="utf-8"))
    assert cli["file"] == str(p) and got["file"] == "page.png"
    assert {**cli, "file": "page.png"} == got


def test_jpeg_raw_body_and_filename(client, tiny_reader):
    img = _page([2, 4, 3])
    data = _jpeg(img)
    r = client.post("/v1/ocr?filename=scan.jpg", content=data, headers={"content-type": "image/jpeg"})
    assert r.status_code == 200, r.text
    assert r.json() == jsonl_record(tiny_reader.read(data), "scan.jpg")
    assert [ln["text"] for ln in r.json()["pages"][0]["lines"]] == ["中中", "中中中中", "中中中"]
    r2 = client.post("/v1/ocr", content=data)  # no content type, no name
    assert r2.status_code == 200 and r2.json()["file"] == "upload"
    # curl --data-binary @scan.jpg sends application/x-www-form-urlencoded: still the raw file
    r3 = client.post("/v1/ocr", content=data, headers={"content-type": "application/x-www-form-urlencoded"})
    assert r3.status_code == 200 and r3.json()["pages"] == r.json()["pages"]


def test_pdf_and_multipage_tiff(client):
    img = _page([1, 5])
    r = client.post("/v1/ocr?dpi=100", files={"file": ("doc.pdf", _pdf(img, pages=2), "application/pdf")})
    assert r.status_code == 200, r.text
    pages = r.json()["pages"]
    assert [p["index"] for p in pages] == [0, 1]
    assert abs(pages[0]["width"] - img.shape[1]) <= 1 and abs(pages[0]["height"] - img.shape[0]) <= 1
    for p in pages:
        assert [ln["text"] for ln in p["lines"]] == ["中", "中中中中中"]
    # dpi changes the raster size
    r = client.post("/v1/ocr?dpi=200", files={"file": ("doc.pdf", _pdf(img), "application/pdf")})
    assert abs(r.json()["pages"][0]["width"] - 2 * img.shape[1]) <= 2
    r = client.post("/v1/ocr", files={"file": ("t.tiff", _tiff([_page([2]), _page([3])]))})
    assert [[ln["text"] for ln in p["lines"]] for p in r.json()["pages"]] == [["中中"], ["中中中"]]


def test_bundled_sample(client):
    r = client.post("/v1/ocr", files={"file": ("sample.png", SAMPLE.read_bytes(), "image/png")})
    assert r.status_code == 200, r.text
    page = r.json()["pages"][0]
    with Image.open(SAMPLE) as im:
        assert (page["width"], page["height"]) == im.size
    for ln in page["lines"]:
        assert set(ln) == {"text", "confidence", "polygon", "block"} and len(ln["polygon"]) >= 4


def test_formats_text_hocr_pdf(client, tiny_reader):
    img = _page([3, 1])
    data = _png(img)
    r = client.post("/v1/ocr?format=text", files={"file": ("a.png", data)})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert r.text == to_text(tiny_reader.read(data)) == "中中中中\n"  # one paragraph's two lines
    # an option as a multipart form field
    r = client.post("/v1/ocr", files={"file": ("a.png", data)}, data={"format": "hocr"})
    assert r.status_code == 200 and "xhtml" in r.headers["content-type"]
    root = ElementTree.fromstring(r.content)
    spans = [e for e in root.iter() if e.get("class") == "ocr_line"]
    assert len(spans) == 2
    r = client.post("/v1/ocr?format=pdf", files={"file": ("scan.png", data)})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    assert 'filename="scan.pdf"' in r.headers["content-disposition"]
    if shutil.which("pdftotext"):
        txt = subprocess.run(["pdftotext", "-", "-"], input=r.content, capture_output=True, check=True).stdout
        assert [t for t in txt.decode("utf-8").split() if t] == ["中中中", "中"]


def test_include_text_and_images_line_mode(client):
    data = _png(_page([2, 2]))
    r = client.post("/v1/ocr?include=text,images", files={"file": ("a.png", data)})
    body = r.json()
    assert body["text"] == "中中中中"
    assert body["pages"][0]["image"].startswith("data:image/jpeg;base64,")
    line = np.full((32, 200, 3), 255, np.uint8)
    draw_line(line, 10, 6, 4, piece_w=20, gap=14)
    r = client.post("/v1/ocr?mode=line", files={"file": ("line.png", _png(line))})
    assert [ln["text"] for ln in r.json()["pages"][0]["lines"]] == ["中中中中"]


# ----------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [
        (b"this is not an image at all" * 20, 415, "unsupported"),
        (bytes(range(256)) * 40, 415, "unsupported"),
        (b"GIF89a" + b"\x00" * 5, 415, "unsupported"),
        (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\ngarbage garbage\n", 422, "broken"),
        (b"", 422, "empty"),
    ],
)
def test_garbage_is_415_or_422(client, body, status, kind):
    _error(client.post("/v1/ocr", files={"file": ("x.bin", body)}), status, kind)
    _error(client.post("/v1/ocr", content=body), status, kind)


def test_truncated_and_encrypted(client):
    png = _png(_page([3]))
    msg = _error(client.post("/v1/ocr", files={"file": ("t.png", png[: len(png) // 2])}), 422, "broken")
    assert "truncated" in msg
    jpg = _jpeg(_page([3]))
    _error(client.post("/v1/ocr", content=jpg[: len(jpg) // 2]), 422)
    pdf = _pdf(_page([1]), encrypt="s3cret")
    assert "encrypted" in _error(client.post("/v1/ocr", content=pdf), 422, "encrypted")
    good = _pdf(_page([1]), pages=3)
    _error(client.post("/v1/ocr", content=good[: len(good) // 3]), 422)


def test_multipart_without_file_field(client):
    msg = _error(client.post("/v1/ocr", files={"image": ("a.png", _png(_page([1])))}), 422)
    assert "'file'" in msg
    r = client.post(
        "/v1/ocr",
        content=b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc',
        headers={"content-type": "multipart/form-data; boundary=xyz"},
    )
    assert r.status_code in (400, 415, 422) and "error" in r.json()


def test_bad_options_are_422(client):
    data = _png(_page([1]))
    for q, word in [
        ("format=xml", "format"),
        ("dpi=abc", "dpi"),
        ("dpi=5000", "dpi"),
        ("mode=column", "mode"),
        ("include=everything", "include"),
        ("det=nope", "unknown detector"),
        ("rec=nope", "unknown recognizer"),
        ("det=/etc", "unknown detector"),  # requests name installed models, never server paths
        ("script=pinyin", "script"),
    ]:
        assert word in _error(client.post(f"/v1/ocr?{q}", files={"file": ("a.png", data)}), 422)
    for where in ("query", "form"):  # a valid script is accepted both ways
        q, form = ("?script=traditional", None) if where == "query" else ("", {"script": "simplified"})
        r = client.post(f"/v1/ocr{q}", files={"file": ("a.png", data)}, data=form)
        assert r.status_code == 200, r.text


def test_limits_are_413_with_message(config):
    img = _page([2, 2, 2])  # 480 x 195
    with _client(config, max_upload_bytes=2000) as c:
        big = _png(np.random.default_rng(0).integers(0, 255, (50, 50, 3), np.uint8))  # ~7.5 kB
        assert "upload too large" in _error(c.post("/v1/ocr", files={"file": ("a.png", big)}), 413)
        assert "upload too large" in _error(c.post("/v1/ocr", content=big), 413)

        def chunks():  # no Content-Length: the streamed body is counted
            for _ in range(10):
                yield big[:1000]

        assert "upload too large" in _error(c.post("/v1/ocr", content=chunks()), 413)
        assert c.get("/healthz").json()["status"] == "ok"
    with _client(config, max_pixels=60_000, max_pages=2) as c:
        msg = _error(c.post("/v1/ocr", files={"file": ("a.png", _png(img))}), 413)
        assert "too many pixels" in msg and "60,000" in msg
        msg = _error(c.post("/v1/ocr?dpi=300", files={"file": ("a.pdf", _pdf(img))}), 413)
        assert "too many pixels" in msg
        msg = _error(c.post("/v1/ocr", content=_tiff([_page([1])] * 3)), 413)
        assert "too many pages" in msg and "limit 2" in msg
        r = c.post("/v1/ocr", content=_pdf(_page([1]), pages=3))
        assert "too many pages" in _error(r, 413, "too_large")
        assert c.post("/v1/ocr", content=_png(_page([1]))).status_code == 200


def _png_bomb(w: int, h: int) -> bytes:
    """A tiny PNG whose header claims ``w`` x ``h`` pixels."""
    import struct
    import zlib

    data = bytearray(_png(np.zeros((1, 1, 3), np.uint8)))
    data[16:24] = struct.pack(">II", w, h)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    return bytes(data)


def test_bombs_are_413_before_decoding(client):
    msg = _error(client.post("/v1/ocr", content=_png_bomb(100_000, 100_000)), 413)
    assert "too many pixels" in msg
    msg = _error(client.post("/v1/ocr", content=_png_bomb(8000, 6000)), 413)  # 48 MP > 40 MP default
    assert "too many pixels" in msg and "40,000,000" in msg
    from reportlab.pdfgen import canvas

    b = io.BytesIO()
    c = canvas.Canvas(b, pagesize=(14400, 14400))  # 200 x 200 inches
    c.drawString(10, 10, "x")
    c.showPage()
    c.save()
    huge = b.getvalue()
    assert "too many pixels" in _error(client.post("/v1/ocr", content=huge), 413)
    assert client.get("/healthz").json()["status"] == "ok"


# ----------------------------------------------------------------------------- pool: concurrency, 503, 504


def test_concurrent_requests_equal_sequential(config):
    images = [_page([1 + (k % 4), 1 + (k * 3) % 5]) for k in range(6)]
    images.append(two_column_page()[0])
    bodies = [(f"p{k}.png", _png(im)) for k, im in enumerate(images)]
    bodies += [(f"p{k}.jpg", _jpeg(im)) for k, im in enumerate(images[:3])]
    bodies.append(("d.pdf", _pdf(images[1], pages=2)))
    app = create_app(config, workers=3, queue=2 * len(bodies))

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            seq = [(await c.post("/v1/ocr", files={"file": b})) for b in bodies]
            par = await asyncio.gather(*[c.post("/v1/ocr", files={"file": b}) for b in bodies * 2])
        return seq, par

    seq, par = asyncio.run(go())
    assert all(r.status_code == 200 for r in seq + list(par))
    want = [r.json() for r in seq]
    assert [r.json() for r in par] == want * 2
    assert sum(len(p["lines"]) for w in want for p in w["pages"]) > 20


class _SlowDetector:
    def __init__(self, inner, seconds: float, started: threading.Event | None = None):
        self.inner, self.seconds, self.started = inner, seconds, started

    def detect(self, image):
        if self.started is not None:
            self.started.set()
        time.sleep(self.seconds)
        return self.inner.detect(image)


class _BrokenDetector:
    def detect(self, image):
        raise RuntimeError("detector exploded")


def test_saturated_pool_is_503_and_recovers(config):
    data = _png(_page([2]))
    app = create_app(config, workers=1, queue=0)
    started = threading.Event()
    reader = app.state.shizi.reader(None, None)
    inner = reader.detector
    reader.detector = _SlowDetector(inner, 2.0, started)
    with TestClient(app) as c:
        results = {}
        t = threading.Thread(target=lambda: results.setdefault("slow", c.post("/v1/ocr", content=data)))
        t.start()
        assert started.wait(10)
        assert "busy" in _error(c.post("/v1/ocr", content=data), 503)
        assert c.get("/healthz").json()["running"] == 1  # health answers while the pool is busy
        t.join(20)
        assert results["slow"].status_code == 200
        reader.detector = inner
        assert c.post("/v1/ocr", content=data).status_code == 200


def _wait_idle(c: TestClient, seconds: float = 20.0) -> dict:
    deadline = time.time() + seconds
    while True:
        h = c.get("/healthz").json()
        if (h["running"] == 0 and h["waiting"] == 0) or time.time() > deadline:
            return h
        time.sleep(0.05)


def test_timeout_is_504_and_the_slot_is_freed(config):
    data = _png(_page([2]))
    app = create_app(config, workers=1, timeout=0.5)
    reader = app.state.shizi.reader(None, None)
    inner = reader.detector
    with TestClient(app) as c:
        reader.detector = _SlowDetector(inner, 2.0)
        t0 = time.monotonic()
        assert "timed out" in _error(c.post("/v1/ocr", content=data), 504)
        assert time.monotonic() - t0 < 1.9  # answered at the timeout, not when the page is done
        assert c.get("/healthz").json()["running"] == 1  # the page finishes in its slot (bounded)
        h = _wait_idle(c)
        assert h["running"] == 0 and h["waiting"] == 0


def test_unexpected_errors_are_500_and_the_server_goes_on(config):
    data = _png(_page([2]))
    app = create_app(config, workers=1)
    reader = app.state.shizi.reader(None, None)
    inner = reader.detector
    with TestClient(app) as c:
        reader.detector = _BrokenDetector()
        assert "detector exploded" in _error(c.post("/v1/ocr", content=data), 500)
        reader.detector = inner
        r = c.post("/v1/ocr", content=data)
        assert r.status_code == 200 and r.json()["pages"][0]["lines"][0]["text"] == "中中"
        assert _wait_idle(c)["running"] == 0


def test_models_load_once(config, monkeypatch):
    import shizi.detection as det_mod
    import shizi.recognition as rec_mod

    calls = {"det": 0, "rec": 0}
    real_det, real_rec = det_mod.load_detector, rec_mod.load_recognizer

    def count_det(*a, **k):
        calls["det"] += 1
        return real_det(*a, **k)

    def count_rec(*a, **k):
        calls["rec"] += 1
        return real_rec(*a, **k)

    monkeypatch.setattr(det_mod, "load_detector", count_det)
    monkeypatch.setattr(rec_mod, "load_recognizer", count_rec)
    with TestClient(create_app(config)) as c:
        data = _png(_page([1]))
        for q in ("", "?det=tiny-det&rec=tiny-rec", "?format=text", "?mode=line"):
            assert c.post(f"/v1/ocr{q}", content=data).status_code == 200
    assert calls == {"det": 1, "rec": 1}


def test_no_models_installed_is_a_clear_error(tmp_path, monkeypatch):
    from shizi import ModelError

    monkeypatch.setenv("SHIZI_MODEL_PATH", str(tmp_path))
    monkeypatch.setattr("shizi.models.PACKAGE_DIR", tmp_path)
    with pytest.raises(ModelError, match="no (detection|recognition) model installed"):
        create_app()
    app = create_app(preload=False)
    with TestClient(app) as c:
        assert c.get("/healthz").json()["models"]["detector"] is None
        assert "no " in _error(c.post("/v1/ocr", content=_png(_page([1]))), 503)


def test_serve_subcommand(tmp_path, monkeypatch, capsys):
    from shizi.cli import build_parser

    args = build_parser().parse_args(["serve", "--port", "9", "--workers", "3"])
    assert args.command == "serve" and args.port == 9 and args.workers == 3 and args.host == "127.0.0.1"
    monkeypatch.setenv("SHIZI_MODEL_PATH", str(tmp_path))
    monkeypatch.setattr("shizi.models.PACKAGE_DIR", tmp_path)
    assert cli_main(["serve", "--port", "9"]) == 2  # no models: a clear error, no server
    assert "model installed" in capsys.readouterr().err


class _CountingDetector(_SlowDetector):
    calls = 0

    def detect(self, image):
        type(self).calls += 1
        return super().detect(image)


def test_a_timed_out_request_stops_between_pages(config):
    """A 504 also ends the work: a 12-page TIFF stops at the first page after the deadline."""
    data = _tiff([_page([2])] * 12)
    app = create_app(config, workers=1, timeout=0.6, max_pages=20)
    reader = app.state.shizi.reader(None, None)
    with TestClient(app) as c:
        reader.detector = _CountingDetector(reader.detector, 0.25)
        _CountingDetector.calls = 0
        assert "timed out" in _error(c.post("/v1/ocr", content=data), 504)
        h = _wait_idle(c)
        assert h["running"] == 0
        assert _CountingDetector.calls <= 4  # 0.6 s of 0.25 s pages, not all 12


def test_slow_uploads_do_not_take_the_workers(config):
    """Twelve clients that send a Content-Length and then a byte now and then, against a real uvicorn
    on loopback with 2 workers + 2 queue places: a normal request is still served, and the slow ones
    get 408 when their upload deadline passes."""
    import socket

    import uvicorn

    app = create_app(config, workers=2, queue=2, upload_timeout=3.0, timeout=30)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", limit_concurrency=64))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        slow = []
        for _ in range(12):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"POST /v1/ocr HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                      b"Content-Length: 100000\r\n\r\n" + b"\x89PNG")
            slow.append(s)
        time.sleep(0.5)
        t0 = time.monotonic()
        r = httpx.post(f"http://127.0.0.1:{port}/v1/ocr", content=_png(_page([2])), timeout=20)
        assert r.status_code == 200 and r.json()["pages"][0]["lines"][0]["text"] == "中中"
        assert time.monotonic() - t0 < 2.5  # served at once, not after the slow uploads give up
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").json()["uploading"] == 12
        for s in slow:
            s.settimeout(10)
            assert b" 408 " in s.recv(200).split(b"\r\n", 1)[0] + b" "
            s.close()
    finally:
        server.should_exit = True
        thread.join(10)


def test_processes_mode_restarts_a_killed_process(tiny_models, tmp_path):
    """shizi serve --processes 2: two server processes under uvicorn's manager; one killed with
    SIGKILL is replaced and the service keeps answering."""
    import os
    import signal
    import socket
    import subprocess
    import sys

    det, rec = tiny_models
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = (tmp_path / "serve.log").open("wb")
    cmd = [sys.executable, "-m", "shizi.cli", "serve", "--port", str(port), "--processes", "2",
           "--workers", "1", "--det", str(det), "--rec", str(rec), "--no-orient", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)

    def children() -> set[int]:  # the server processes (not multiprocessing's resource tracker)
        kids = set()
        for t in os.listdir(f"/proc/{proc.pid}/task"):
            kids |= {int(k) for k in open(f"/proc/{proc.pid}/task/{t}/children").read().split()}
        return {k for k in kids if "spawn_main" in open(f"/proc/{k}/cmdline").read()}

    def ocr_ok() -> bool:
        try:
            r = httpx.post(f"http://127.0.0.1:{port}/v1/ocr", content=_png(_page([3])), timeout=10)
        except httpx.HTTPError:
            return False
        return r.status_code == 200 and r.json()["pages"][0]["lines"][0]["text"] == "中中中"

    def wait(cond, seconds: float) -> bool:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if cond():
                return True
            time.sleep(0.3)
        return False

    try:
        assert wait(ocr_ok, 60), (tmp_path / "serve.log").read_text()
        servers = sorted(children())
        assert len(servers) == 2, servers
        victim = servers[0]
        os.kill(victim, signal.SIGKILL)
        assert wait(lambda: victim not in children() and len(children()) == 2, 30)
        assert wait(ocr_ok, 30)
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
