"""The shipped default models, end to end. Skipped (with the reason) until the models are installed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shizi.cli import main
from shizi.errors import ModelError
from shizi.models import default_model, list_models

SAMPLE = Path(__file__).resolve().parents[1] / "src" / "shizi" / "samples" / "sample.png"
EVAL = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "docs_zh_scan"


def _have_defaults() -> str | None:
    try:
        default_model("detection")
        default_model("recognition")
    except ModelError as e:
        return str(e)
    return None


pytestmark = pytest.mark.slow  # the shipped detector and recognizer, end to end
missing = _have_defaults()
needs_defaults = pytest.mark.skipif(missing is not None, reason=f"shipped models not installed: {missing}")


@pytest.mark.skipif(not list_models(), reason="no shipped models installed")
def test_shipped_models_verify():
    for m in list_models():
        m.verify()  # sha256 matches config.json
        assert (m.path / "MODEL.md").is_file(), f"{m.name} has no MODEL.md"
        if m.task == "recognition":
            assert len(m.charset()) > 0


@needs_defaults
def test_default_reader_reads_sample():
    import shizi

    doc = shizi.Reader().read(SAMPLE)
    text = "".join(doc.text().split())
    assert text, "no text read from the bundled sample"
    assert doc.pages[0].lines and all(len(ln.polygon) >= 4 for ln in doc.pages[0].lines)
    # the shipped models read the sample without an error (0 of 165 characters); a regression shows here
    from shizi import metrics as M

    reference = SAMPLE.with_suffix(".txt").read_text(encoding="utf-8")
    assert M.cer([(reference, doc.text())]).cer < 0.03


@needs_defaults
@pytest.mark.skipif(not EVAL.is_dir(), reason="../shared/eval not present")
def test_cli_jsonl_on_eval_scans(capsys):
    files = sorted(str(p) for p in EVAL.glob("*.jpg"))[:2]
    assert main(["read", "-f", "jsonl", "--no-progress", *files]) == 0
    recs = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r["file"] for r in recs] == files
    for r in recs:
        (page,) = r["pages"]
        assert {"index", "width", "height", "lines"} <= set(page)
        assert page["lines"], "no lines found on an eval page"
        for ln in page["lines"]:
            assert set(ln) == {"text", "confidence", "polygon", "block"}


@pytest.mark.skipif(not list_models("recognition"), reason="no shipped recognition model installed")
def test_default_recognizer_line_mode():
    import numpy as np
    from PIL import Image

    import shizi

    page = np.asarray(Image.open(SAMPLE).convert("RGB"))
    line = page[140:185, 40:900]  # the first body line of the sample
    doc = shizi.Reader(detector=False).read(line, mode="line")
    assert doc.text().strip(), "the default recognizer read nothing from a clear line"


@needs_defaults
@pytest.mark.skipif(not list_models("orientation"), reason="no shipped orientation model installed")
@pytest.mark.parametrize("turn", [90, 180, 270])
def test_a_turned_sample_is_turned_back_and_read(turn):
    import numpy as np
    from PIL import Image

    import shizi
    from shizi import metrics as M

    page = np.asarray(Image.open(SAMPLE).convert("RGB"))
    turned = np.ascontiguousarray(np.rot90(page, turn // 90))  # counter-clockwise: turn back by `turn`
    (got,) = shizi.Reader().read(turned).pages
    assert got.rotation == turn and (got.width, got.height) == (turned.shape[1], turned.shape[0])
    reference = SAMPLE.with_suffix(".txt").read_text(encoding="utf-8")
    assert M.cer([(reference, got.text())]).cer < 0.03
    assert all(0 <= x <= got.width and 0 <= y <= got.height for ln in got.lines for x, y in ln.polygon)


@needs_defaults
def test_recognized_text_does_not_depend_on_batching():
    """A crop is padded to its own width class, and a dynamically quantized network (activation scales
    taken over the whole batch) runs one crop at a time, so the crops batched with it cannot change its
    text, nor its probabilities (near-ties flip text only now and then: 10 of 300 synthetic lines)."""
    import numpy as np
    from PIL import Image

    import shizi

    page = np.asarray(Image.open(SAMPLE).convert("RGB"))
    reader = shizi.Reader()
    lines = reader.read(page).pages[0].lines
    crops = [c.images[0] for c in (reader.line_crop(page, ln.polygon, False) for ln in lines)]
    # each line also cut short at a few lengths: many widths, so batches mix long and short crops
    crops += [c[:, : int(c.shape[1] * f)] for c in crops for f in (0.37, 0.61, 0.83)]
    texts, probs = {}, {}
    for bs in (1, 4, 16):
        rec = shizi.Reader(detector=False, batch_size=bs).recognizer
        texts[bs] = [r.text for r in rec.recognize(crops)]
        prepared = [rec._resize(rec._grey_band(c), rec.config.width_scale) for c in crops]
        probs[bs] = [p.columns(list(range(len(rec.charset) + 1))) for _, p in rec._read(prepared)]
    assert sum(map(len, texts[1])) > 400
    assert texts[1] == texts[4] == texts[16]
    for bs in (4, 16):
        assert all(np.array_equal(a, b) for a, b in zip(probs[1], probs[bs], strict=True)), bs


@pytest.mark.skipif(not list_models("recognition"), reason="no shipped recognition model installed")
def test_character_boxes_cover_their_glyphs():
    """Each CJK character's box overlaps its glyph's ink box at IoU >= 0.5 (lines rendered glyph by glyph,
    so every glyph's ink box is known); CTC's own run of steps covers about a third of the glyph."""
    import random

    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    import shizi
    from shizi import metrics as M
    from shizi.synth.corpus import TextSampler
    from shizi.synth.fonts import faces_covering

    faces = faces_covering("识字中文")[:4]
    sampler = TextSampler(random.Random(3))
    reader = shizi.Reader(detector=False)
    ious = []
    for i in range(24):
        text = "".join(sampler.zh_words(4))[:12]
        size = (32, 40, 56)[i % 3]
        font = ImageFont.truetype(faces[i % len(faces)].path, size, index=faces[i % len(faces)].index)
        img = Image.new("L", (int(font.getlength(text)) + 2 * size, 3 * size), 255)
        draw, x, boxes = ImageDraw.Draw(img), size, []
        for ch in text:
            glyph = Image.new("L", img.size, 255)
            ImageDraw.Draw(glyph).text((x, size), ch, font=font, fill=0)
            ys, xs = np.nonzero(np.asarray(glyph) < 128)
            boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
            draw.text((x, size), ch, font=font, fill=0)
            x += font.getlength(ch)
        (line,) = reader.read(np.asarray(img.convert("RGB")), mode="line").pages[0].lines
        chars = [c for w in line.words for c in w.chars]
        if "".join(c.text for c in chars) == text:  # misread lines have no one-to-one boxes
            ious += [M.polygon_iou(c.polygon, M.box_to_polygon(b)) for c, b in zip(chars, boxes, strict=True)]
    assert len(ious) > 150
    assert np.mean(np.asarray(ious) >= 0.5) >= 0.95
