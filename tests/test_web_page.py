"""The web page in real headless Chromium (Debian ``chromium`` driven by the Python ``playwright``
package): ``shizi serve`` runs with the tiny test models on a free loopback port; a generated page is
uploaded, and the line boxes, the text list, click-to-highlight and the downloads are checked."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from conftest import two_column_page

CHROMIUM = os.environ.get("SHIZI_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _missing() -> str | None:
    if not Path(CHROMIUM).is_file():
        return f"chromium not installed ({CHROMIUM}); apt-get install chromium"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install playwright)"
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        return "the [serve] extra is not installed"
    return None


_why = _missing()
if _why and os.environ.get("CI"):
    raise RuntimeError(f"web page test cannot run on CI: {_why}")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(_why is not None, reason=_why or "")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tiny_models, tmp_path_factory):
    det, rec = tiny_models
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "shizi.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--det", str(det), "--rec", str(rec), "--no-orient", "--workers", "2", "--log-level", "warning"],
            stdout=fh, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                    if json.load(r)["status"] == "ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("shizi serve did not start:\n" + log.read_text(errors="replace"))
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    ctx.close()
    assert not errors, errors


def test_upload_shows_boxes_and_text(server, page, tmp_path):
    img, order = two_column_page()
    f = tmp_path / "两栏 page.png"
    Image.fromarray(img).save(f)
    page.goto(server + "/")
    assert "识字" in page.title()
    page.wait_for_function("document.querySelectorAll('#det option').length > 0")
    assert page.locator("#det").input_value() == "tiny-det"

    page.set_input_files("#file", str(f))
    page.wait_for_selector("polygon.box")
    boxes = page.locator("polygon.box")
    lines = page.locator("li.line")
    assert boxes.count() == len(order) == lines.count()
    assert page.locator("li.line .text").all_inner_texts() == ["中" * n for n in order]
    assert page.locator("li.line.new-block").count() == 2  # the columns start new blocks in the panel
    assert "完成" in page.locator("#status").inner_text()

    # the boxes lie over the page image where the lines are: first line (the title) at x≈40, y≈30..50
    img_box = page.locator(".page img").bounding_box()
    scale = img_box["width"] / img.shape[1]
    assert abs(img_box["height"] / img.shape[0] - scale) < 0.01
    pts = [tuple(map(float, p.split(","))) for p in boxes.nth(0).get_attribute("points").split()]
    x0, y0 = min(p[0] for p in pts), min(p[1] for p in pts)
    x1, y1 = max(p[0] for p in pts), max(p[1] for p in pts)
    assert abs(x0 - 40) < 20 and abs(y0 - 30) < 12 and abs(x1 - 538) < 20 and abs(y1 - 50) < 12
    shown = boxes.nth(0).bounding_box()  # drawn at the image's scale and offset (box includes the stroke)
    assert abs(shown["x"] + shown["width"] / 2 - (img_box["x"] + (x0 + x1) / 2 * scale)) < 2
    assert abs(shown["y"] + shown["height"] / 2 - (img_box["y"] + (y0 + y1) / 2 * scale)) < 2
    assert abs(shown["width"] - (x1 - x0) * scale) < 10

    # clicking a line highlights its box (and only that), clicking a box highlights its line
    lines.nth(3).click()
    assert page.locator("polygon.box.active").count() == 1
    assert page.locator("polygon.box.active").get_attribute("data-line") == "0-3"
    assert "active" in (lines.nth(3).get_attribute("class") or "")
    page.locator('polygon.box[data-line="0-5"]').click(force=True)
    assert page.locator("li.line.active").get_attribute("data-line") == "0-5"
    assert page.locator("polygon.box.active").count() == 1

    # downloads: text, JSON (the jsonl record), searchable PDF
    with page.expect_download() as d:
        page.click("#dl-txt")
    assert d.value.suggested_filename == "两栏 page.txt"
    text = Path(d.value.path()).read_text(encoding="utf-8")
    assert text.split() == ["中" * order[0], "中" * sum(order[1:4]), "中" * sum(order[4:])]  # paragraphs
    with page.expect_download() as d:
        page.click("#dl-json")
    rec = json.loads(Path(d.value.path()).read_text(encoding="utf-8"))
    assert set(rec) == {"file", "pages"}
    assert set(rec["pages"][0]) == {"index", "width", "height", "rotation", "blocks", "lines"}
    assert [ln["text"] for ln in rec["pages"][0]["lines"]] == ["中" * n for n in order]
    with page.expect_download() as d:
        page.click("#dl-pdf")
    assert d.value.suggested_filename.endswith(".pdf")
    assert Path(d.value.path()).read_bytes().startswith(b"%PDF-")


def test_bundled_sample_and_broken_file(server, page, tmp_path):
    page.goto(server + "/")
    page.click("#try-sample")  # fetches /sample.png and reads it
    page.wait_for_selector("li.line, li.empty")
    assert "sample.png" in page.locator("#summary").inner_text()
    n = page.locator("li.line").count()
    assert page.locator("polygon.box").count() == n
    assert page.locator(".page img").evaluate("im => im.complete && im.naturalWidth > 0")
    # a broken upload shows the server's message and the page keeps working
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not really a picture" * 10)
    page.set_input_files("#file", str(bad))
    page.wait_for_selector("#status.error")
    msg = page.locator("#status").inner_text()
    assert "unsupported file type" in msg and "415" in msg
    assert page.locator("#result").is_hidden()  # the sample's result is not left as if it were this file's
    page.click("#try-sample")  # and the page still reads the next file
    page.wait_for_selector("#result:not([hidden])")
    assert page.locator("li.line").count() == n


def test_api_docs_render_offline(server, page):
    def local_only(route):  # no CDN: anything not served by the app fails
        return route.continue_() if route.request.url.startswith(server) else route.abort()

    page.route("**/*", local_only)
    page.goto(server + "/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert {"/v1/ocr", "/healthz", "/v1/models"} <= {p.replace("\u200b", "").strip() for p in paths}
