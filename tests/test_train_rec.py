"""Training side of the recognizer: charset, synthetic lines, a few real training steps, exact resume,
fine-tuning on a user's crops, ONNX export matching torch and the runtime's decoding."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # trains with torch
torch = pytest.importorskip("torch")

from shizi.synth.charset import build_charset, load_charset, save_charset  # noqa: E402


def test_charset_covers_simplified_traditional_and_punctuation():
    cs = build_charset()
    assert len(cs) == len(set(cs))
    assert 9000 < len(cs) < 13000
    for ch in "识字體鬱“”《》、。，：；！？（）—…ＡＺａ０9 ":
        assert ch in cs, ch
    assert cs == build_charset()  # deterministic order


def test_extended_charset_adds_rare_han_big5_level_2_and_latin_1():
    from shizi.synth.charset import build_extended_charset

    cs, ext = build_charset(), build_extended_charset()
    assert len(ext) == len(set(ext)) and 15000 < len(ext) < 17000
    assert ext[: len(cs)] == cs  # the shipped order first: a fine-tune keeps every row's index
    # rare Han of jieba's words (as in the Shijing), Big5 level 2, CJK punctuation, Latin-1 letters
    for ch in "嗿饁俶麃飶翃‧〇「」『』〈〉éüñß":
        assert ch in ext, ch
    assert ext.count("×") == 1  # in PUNCTUATION, not again from the Latin-1 range
    from shizi.synth.charset import jieba_han_counts

    counts = jieba_han_counts()  # jieba's one-character entries hold GBK-decoded UTF-8 (紝 銆 殑): left out
    assert counts["的"] > 10_000 and not {"紝", "銆", "殑"} & set(counts)


def test_new_charset_rows_start_quiet_and_old_rows_move_with_their_characters():
    from shizi.train.nets.recognition import crnn_lite, remap_classes

    torch.manual_seed(0)
    old, new = ["a", "b", "c"], ["c", "x", "a", "y", "z"]
    net = crnn_lite(len(old) + 1)
    net.eval()
    x = torch.rand(2, 1, 32, 96) * 2 - 1
    with torch.no_grad():
        before = net(x)
        remap_classes(net, old, new)
        after = net(x)
    assert net.fc.out_features == len(new) + 1
    # blank, c and a keep their logits at their new indices; b is gone
    assert torch.allclose(after[..., [0, 1, 3]], before[..., [0, 3, 1]], atol=1e-5)
    # the new characters together weigh at most what one old character does on average, and none
    # of them is ever the most likely class
    new_mass = torch.logsumexp(after[..., [2, 4, 5]], -1)
    assert (new_mass <= torch.logsumexp(before[..., 1:], -1) - np.log(len(old)) + 1e-4).all()
    assert not bool(torch.isin(after.argmax(-1), torch.tensor([2, 4, 5])).any())


def test_charset_roundtrip_keeps_space(tmp_path):
    cs = ["a", " ", "中"]
    save_charset(cs, tmp_path / "c.txt")
    assert load_charset(tmp_path / "c.txt") == cs


def test_synthetic_lines_are_deterministic_and_in_charset():
    from shizi.train.rec_data import SynthLines

    ds = SynthLines(seed=3)
    a, b = ds[17], SynthLines(seed=3)[17]
    assert a[1] == b[1] and np.array_equal(a[0], b[0])
    assert ds[18][1] != a[1] or not np.array_equal(ds[18][0], a[0])
    cs = set(build_charset())
    for i in range(20):
        img, text = ds[i]
        assert img.shape[0] == 32 and img.dtype == np.uint8 and img.shape[1] >= 8
        assert text and set(text) <= cs


def test_page_lines_are_whole_legible_lines_cut_as_the_runtime_cuts_them():
    from shizi.train.rec_data import PageLines, sharpness

    ds = PageLines(seed=4, per_page=6)
    a, b = ds[3], PageLines(seed=4, per_page=6)[3]
    assert a[1] == b[1] and np.array_equal(a[0], b[0])
    for i in range(12):
        img, text = ds[i]
        assert img.shape[0] == 32 and img.dtype == np.uint8 and 0 < len(text) <= 32
    lines = [x for i in range(4) for x in ds.page_lines(i)[1]]
    assert lines and all(sharpness(crop) >= 2.5 and min(crop.shape) >= 8 for crop, _ in lines)
    from shizi.geometry import VERTICAL, line_direction
    from shizi.synth.pages import render_page

    rng, cut = random.Random(0), []
    for index in range(4):  # some pages are blurred past reading as a whole
        page = render_page(4, index, "vertical")
        cut += [(ds._crop(page.image, q, t, rng), t) for q, t in zip(page.quads, page.texts, strict=True)
                if line_direction(q) == VERTICAL]
    # a column comes as its cells side by side, about a glyph wide each; Latin runs lie turned: left out
    assert sum(c is not None for c, _ in cut) > 3
    for crop, text in cut:
        if any(c.isascii() for c in text):
            assert crop is None
        elif crop is not None:
            assert 0.5 < crop.shape[1] / (crop.shape[0] * len(text)) < 3, (crop.shape, text)


def test_page_lines_leave_out_lines_the_frame_cuts_off(monkeypatch):
    import shizi.synth.pages as pages
    from shizi.synth.fonts import faces_covering
    from shizi.synth.lines import draw_text
    from shizi.train.rec_data import PageLines

    ink, (x0, y0, x1, y1) = draw_text("整行文字", faces_covering("整行文字")[0], 28, 20, 235)
    img = np.full((300, 400, 3), 235, np.uint8)
    img[20 : 20 + ink.shape[0], 40 : 40 + ink.shape[1]] = ink[..., None]
    img[150 : 150 + ink.shape[0], : ink.shape[1] - 60] = ink[:, 60:, None]  # runs off the left edge
    box = np.float32([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    whole, cut = box + [40, 20], np.clip(box + [-60, 150], 0, None)  # clipped as render_page clips it
    page = pages.Page(img, [whole, cut], ["整行文字", "整行文字"], "photo")
    monkeypatch.setattr(pages, "render_page", lambda seed, index, kind=None: page)
    _, lines = PageLines(seed=1).page_lines(0)
    assert len(lines) == 1 and lines[0][0].shape[1] > 1.3 * (x1 - x0)  # the whole line, with its margins


def test_sharpness_tells_blurred_past_reading_from_legible():
    import cv2

    from shizi.synth.fonts import faces_covering
    from shizi.synth.lines import draw_text
    from shizi.train.rec_data import sharpness

    img, (x0, y0, x1, y1) = draw_text("模糊的照片里的文字", faces_covering("模糊的照片")[0], 24, 30, 220)
    crop = img[y0 - 4 : y1 + 4, x0 - 4 : x1 + 4]
    assert sharpness(crop) > 2.8
    assert sharpness(cv2.GaussianBlur(crop, (0, 0), 2.5)) < 2.5


def test_page_line_batches_keep_their_share_in_order():
    from shizi.train.rec import WithPageLines

    mixed = WithPageLines([f"s{i}" for i in range(12)], [f"p{i}" for i in range(12)], 2, 4)
    assert [mixed[i] for i in range(8)] == ["p0", "p1", "s2", "s3", "p2", "p3", "s6", "s7"]


def test_font_summary_counts_the_faces_found():
    from shizi.synth.fonts import all_faces, font_summary

    faces = all_faces()
    n_cjk = sum(f.cjk for f in faces)
    line = font_summary()
    assert line.startswith(f"fonts: {n_cjk} CJK faces in ")
    assert line.endswith(f", {len(faces) - n_cjk} Latin faces")
    assert all(Path(f.path).name in line for f in faces if f.cjk)


def test_corpus_summary_names_the_word_lists():
    from shizi.synth.corpus import _english_words, corpus_summary

    line = corpus_summary()
    assert line.startswith("corpus: ") and f"{len(_english_words())} English words" in line
    # scripts/setup.sh --tests installs Debian's wamerican; without it English text has ten words
    assert len(_english_words()) > 10_000 and "/usr/share/dict/words" in line


def test_mixed_lines_set_english_in_a_latin_face():
    from shizi.synth.fonts import all_faces, upright_latin_faces
    from shizi.synth.lines import draw_text

    cjk = next((f for f in all_faces() if f.cjk), None)
    latin = upright_latin_faces()
    if cjk is None or not latin:
        pytest.skip("needs a CJK and a Latin font (fonts-wqy-microhei, fonts-dejavu-core)")
    serif = next((f for f in latin if "Serif" in f.name), latin[0])
    one, (_, _, x1, _) = draw_text("终端GNOME", cjk, 32, 0, 255)
    two, (_, _, x2, _) = draw_text("终端GNOME", cjk, 32, 0, 255, latin=serif)
    han = draw_text("终端", cjk, 32, 0, 255)[1][2]  # where the Han run ends
    h = min(one.shape[0], two.shape[0])
    assert x1 != x2  # the English run has other advances
    assert not np.array_equal(one[:h, han : min(x1, x2)], two[:h, han : min(x1, x2)])
    assert (one[:h, :han] < 128).any() and (two[:h, :han] < 128).any()  # the Han run is drawn in both


def test_latin_first_sets_curly_quotes_in_the_latin_face_but_never_full_width_punctuation():
    from shizi.synth.fonts import FontPair, all_faces, upright_latin_faces

    cjk = next((f for f in all_faces() if f.cjk and "“" in f.coverage), None)
    latin = next((f for f in upright_latin_faces() if "“" in f.coverage), None)
    if cjk is None or latin is None:
        pytest.skip("needs a CJK and a Latin font with curly quotes")
    text = "以“/usr”开始。"
    plain, first = FontPair(cjk, latin, 32), FontPair(cjk, latin, 32, latin_first=True)
    assert plain.font_of("“") is plain.fc and first.font_of("“") is first.fl
    assert first.font_of("。") is first.fc and first.font_of("以") is first.fc
    assert first.text_width(text) < plain.text_width(text)  # proportional quotes are narrower
    assert first.clean(text) == plain.clean(text) == text


def test_small_print_shrinks_text_to_a_few_pixels_and_keeps_small_text():
    from shizi.synth.degrade import small_print

    img = np.full((60, 400), 255, np.uint8)
    for x in range(20, 380, 12):
        img[10:50, x : x + 4] = 0  # 4 px strokes of a 40 px line
    for seed in range(20):
        out = small_print(img, random.Random(seed), line_height=40)
        assert out.dtype == np.uint8 and 12 <= out.shape[0] <= 24  # 8-16 px of 40, times 60 / 40
        assert out.shape[1] / out.shape[0] == pytest.approx(400 / 60, rel=0.1)
        assert out.min() < 128 < out.max()  # still ink on paper
    tiny = np.full((12, 50), 255, np.uint8)
    assert small_print(tiny, random.Random(0), line_height=8).shape == tiny.shape  # never enlarged


def test_text_mix_has_technical_prose_and_dense_narrow_glyphs():
    from shizi.synth.corpus import TextSampler

    s = TextSampler(random.Random(5))
    cs = set(build_charset())
    tech = [s.tech_sentence(30) for _ in range(200)]
    assert all(0 < len(t) <= 31 and set(t) <= cs for t in tech)
    joined = "".join(tech)
    han = sum("\u4e00" <= c <= "\u9fff" for c in joined)
    ascii_ = sum(c.isascii() for c in joined)
    assert han > 0.2 * len(joined) and ascii_ > 0.2 * len(joined)  # really mixed
    assert sum(c in "“”（）【】《》「」‘’()[]<>{}\"'`" for c in joined) > 100  # terms set off
    spaced = sum(bool(re.search(r"[\u4e00-\u9fff] \S|\S [\u4e00-\u9fff]", t)) for t in tech)
    assert spaced > 40  # Latin terms spaced off Han text, as Chinese documents set them
    acronyms = [s.acronym() for _ in range(200)]
    assert all(t[:2].isupper() and t[:2].isascii() for t in acronyms)
    assert sum("I" in t for t in acronyms) > 60  # I beside other capitals, the glyph most often dropped
    lines = [s.line(1, 16) for _ in range(2000)]
    narrow = sum(c in "Ili.,-/()'\":;!|" for t in lines for c in t)
    assert narrow > 0.071 * sum(map(len, lines))  # 0.042 before tech_sentence, 0.068 with 16 % of it


def test_text_mix_sets_whole_lines_in_capitals():
    """Receipts, signs and headings set whole lines in capitals; word-level capitals alone almost never
    give such a line, and the recognizer learned to read capitals as small letters."""
    from shizi.synth.corpus import TextSampler

    s = TextSampler(random.Random(7))
    lines = (s.line(4, 24) for _ in range(3000))
    latin = [t for t in lines if sum(c.isascii() and c.isalpha() for c in t) >= 6]
    caps = [t for t in latin if not any(c.isascii() and c.islower() for c in t)]
    assert 0.1 * len(latin) < len(caps) < 0.3 * len(latin)
    assert sum("一" <= c <= "鿿" for t in caps for c in t) > 0  # capitals beside Han too
    assert all(set(t) <= set(build_charset()) for t in caps)


def _user_crops(tmp_path, n=12):
    """A small labeled set as a user would bring it (tsv), rendered with a real font."""
    import cv2

    from shizi.synth.fonts import faces_covering
    from shizi.synth.lines import draw_text

    face = faces_covering("金额壹贰叁")[0]
    rng = random.Random(0)
    rows = []
    for i in range(n):
        text = "".join(rng.choice("壹贰叁") for _ in range(rng.randint(2, 4)))
        img, (x0, y0, x1, y1) = draw_text(text, face, 28, 0, 255)
        cv2.imwrite(str(tmp_path / f"c{i}.png"), img[y0 - 3 : y1 + 3, x0 - 3 : x1 + 3])
        rows.append(f"c{i}.png\t{text}")
    (tmp_path / "labels.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return tmp_path / "labels.tsv"


def _args(tmp_path, out, labels, steps, resume=False, until=None):
    import argparse

    from shizi.train.rec import add_args

    p = argparse.ArgumentParser()
    add_args(p)
    return p.parse_args([
        "--arch", "crnn_lite", "--out", str(out), "--steps", str(steps), "--batch", "4", "--workers", "0",
        "--threads", "1", "--data", str(labels), "--synth-ratio", "0", "--val-size", "0",
        "--ckpt-every", "2", "--bucket", "2", "--val-every", "1000", "--warmup", "2", "--lr", "3e-3",
        *(["--resume"] if resume else []), *(["--until", str(until)] if until else []),
    ])


def test_training_resumes_exactly_and_exports_matching_onnx(tmp_path):
    from shizi.train.checkpoint import load_weights
    from shizi.train.rec import train

    labels = _user_crops(tmp_path)
    # uninterrupted: 4 steps
    train(_args(tmp_path, tmp_path / "a", labels, 4))
    # interrupted after 2 steps (the schedule spanning 4), then resumed to 4
    train(_args(tmp_path, tmp_path / "b", labels, 4, until=2))
    wb2 = load_weights(tmp_path / "b" / "weights.pt")
    assert wb2["step"] == 2
    train(_args(tmp_path, tmp_path / "b", labels, 4, resume=True))
    wa, wb = load_weights(tmp_path / "a" / "weights.pt"), load_weights(tmp_path / "b" / "weights.pt")
    assert wa["step"] == wb["step"] == 4
    for k in wa["model"]:
        assert torch.equal(wa["model"][k], wb["model"][k]), k
    assert not torch.equal(wa["model"]["fc.weight"], wb2["model"]["fc.weight"])  # it did train

    # export: the float32 graph equals torch, the int8 one agrees with it (both checked inside), and the
    # runtime reads the folder
    import onnx

    from shizi.models import read_model_folder
    from shizi.recognition.crnn import CRNNRecognizer
    from shizi.train.export import export_recognizer

    folder = tmp_path / "rec_test"
    export_recognizer(tmp_path / "a" / "weights.pt", folder)
    cfg = json.loads((folder / "config.json").read_text())
    assert cfg["task"] == "recognition" and cfg["width_stride"] == 8
    ops = {n.op_type for n in onnx.load(str(folder / "model.onnx")).graph.node}
    assert {"MatMulInteger", "DynamicQuantizeLSTM"} <= ops  # int8 output layer and LSTMs
    assert load_charset(folder / "charset.txt") == wa["charset"]
    rec = CRNNRecognizer(read_model_folder(folder))
    crop = np.full((40, 200), 255, np.uint8)
    out = rec.recognize([crop])
    assert len(out) == 1 and isinstance(out[0].text, str)

    # re-exporting into a model folder refreshes what comes from the weights and keeps what was filled
    # in by hand (a shipped model's name, default flag, metrics, language model)
    cfg.update(name="my_rec", default=True, metrics={"lines_zh_cer": 0.5}, lm="lm_zh_bigram",
               sha256="stale", trained_steps=0)
    (folder / "config.json").write_text(json.dumps(cfg))
    export_recognizer(tmp_path / "a" / "weights.pt", folder)
    again = json.loads((folder / "config.json").read_text())
    assert {k: again[k] for k in ("name", "default", "metrics", "lm")} == {
        "name": "my_rec", "default": True, "metrics": {"lines_zh_cer": 0.5}, "lm": "lm_zh_bigram"}
    assert again["trained_steps"] == 4
    read_model_folder(folder).verify()  # the hash is the new file's


def test_loss_decreases_on_a_users_crops(tmp_path):
    """Fine-tuning on a handful of crops: the CTC loss must fall within a few dozen steps."""
    from shizi.train.rec import train

    labels = _user_crops(tmp_path, n=8)
    args = _args(tmp_path, tmp_path / "ft", labels, 30)
    args.val_every = 10
    train(args)
    log = [json.loads(x) for x in (tmp_path / "ft" / "log.jsonl").read_text().splitlines()]
    assert log[-1]["loss"] < log[0]["loss"]


def test_width_buckets_group_similar_widths_and_keep_every_sample():
    from shizi.train.rec import _width_buckets

    rng = np.random.default_rng(0)
    groups = [[(np.zeros((32, int(w)), np.uint8), f"s{g}-{i}")
               for i, w in enumerate(rng.integers(20, 600, 12))] for g in range(3)]
    batches = list(_width_buckets(groups, 4))
    assert len(batches) == 9
    seen = [t for _, _, texts in batches for t in texts]
    assert sorted(seen) == sorted(t for g in groups for _, t in g)
    padded = sum(x.shape[0] * x.shape[3] for x, _, _ in batches)
    unbucketed = sum(len(g) * int(np.ceil(max(im.shape[1] for im, _ in g) / 32) * 32) for g in groups)
    assert padded < 0.8 * unbucketed
    for k in range(0, 9, 3):  # within a group, batches come narrowest first
        widths = [int(b[1].max()) for b in batches[k : k + 3]]
        assert widths == sorted(widths)


def test_new_characters_are_drawn_in_their_share_of_lines():
    from shizi.synth.corpus import TextSampler

    s = TextSampler(random.Random(11))
    s.focus, s.focus_share = ["嗿", "饁"], 0.5
    lines = [s.line(4, 16) for _ in range(400)]
    with_new = [t for t in lines if "嗿" in t or "饁" in t]
    assert 0.4 * len(lines) < len(with_new) < 0.6 * len(lines)
    # between common words, rarely alone
    long = [t for t in with_new if len(t) >= 8]
    assert sum(any(c not in "嗿饁" for c in t) for t in long) > 0.9 * len(long)
