"""shizi batch: inputs from folders / globs / manifests, JSONL / Parquet / mirrored folders, resumable,
several worker processes giving the records one process gives."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import draw_line
from shizi.batch import collect, mirror_path, run_batch
from shizi.cli import main


def _page(pieces: int) -> np.ndarray:
    img = np.full((100, 400, 3), 255, np.uint8)
    draw_line(img, 30, 40, pieces, piece_w=18, gap=12)
    return img


@pytest.fixture
def tree(tmp_path) -> Path:
    """scans/a.png (2 pieces), scans/a.jpg (3), scans/sub/b.png (4), scans/sub/bad.png (not an image),
    scans/notes.txt (not an input)."""
    root = tmp_path / "scans"
    (root / "sub").mkdir(parents=True)
    Image.fromarray(_page(2)).save(root / "a.png")
    Image.fromarray(_page(3)).save(root / "a.jpg", quality=95)
    Image.fromarray(_page(4)).save(root / "sub" / "b.png")
    (root / "sub" / "bad.png").write_bytes(b"not an image" * 10)
    (root / "notes.txt").write_text("ignored")
    return root


def _kwargs(tiny_models) -> dict:
    det, rec = tiny_models
    return {"detector": str(det), "recognizer": str(rec), "orient": False}


def _records(path: Path) -> dict[str, dict]:
    return {r["id"]: r for r in map(json.loads, path.read_text().splitlines())}


def test_inputs_from_folders_globs_and_manifests(tree, tmp_path):
    found = [it.path for it in collect([str(tree)])]
    assert [Path(p).name for p in found] == ["a.jpg", "a.png", "b.png", "bad.png"]  # not notes.txt
    assert [it.path for it in collect([str(tree / "sub" / "*.png")])] == [str(tree / "sub" / n)
                                                                         for n in ("b.png", "bad.png")]
    man = tmp_path / "list.jsonl"
    man.write_text('{"id": "page-1", "path": "scans/a.png"}\n{"path": "scans/sub/b.png"}\n')
    items = collect([], man)
    assert [(it.id, it.path) for it in items] == [("page-1", str(tmp_path / "scans/a.png")),
                                                  ("scans/sub/b.png", str(tmp_path / "scans/sub/b.png"))]
    txt = tmp_path / "list.txt"
    txt.write_text("# pages\nscans/a.jpg\n\n")
    assert [it.path for it in collect([], txt)] == [str(tmp_path / "scans/a.jpg")]
    # outputs keep the whole input name: a.png and a.jpg never write the same file
    assert mirror_path("scans/a.png", ".txt") != mirror_path("scans/a.jpg", ".txt")
    assert mirror_path("/data/x/a.png", ".txt") == Path("data/x/a.png.txt")
    assert ".." not in mirror_path("../up/a.png", ".txt").parts


def test_jsonl_run_is_resumable_and_failures_are_records(tree, tmp_path, tiny_models):
    out = tmp_path / "results.jsonl"
    items = collect([str(tree)])
    s = run_batch(items, out, reader_kwargs=_kwargs(tiny_models), progress=False)
    assert (s.read, s.failed, s.skipped) == (3, 1, 0)
    recs = _records(out)
    assert recs[str(tree / "sub" / "bad.png")]["kind"] == "unsupported"
    texts = {Path(k).name: "".join(ln["text"] for p in r["pages"] for ln in p["lines"])
             for k, r in recs.items() if "error" not in r}
    assert texts == {"a.png": "中中", "a.jpg": "中中中", "b.png": "中中中中"}
    # the bad input is fixed; a kill left half a line at the end: the re-run reads only that input
    Image.fromarray(_page(5)).save(tree / "sub" / "bad.png")
    with out.open("a") as f:
        f.write('{"id": "half a reco')
    s = run_batch(items, out, reader_kwargs=_kwargs(tiny_models), progress=False)
    assert (s.read, s.failed, s.skipped) == (1, 0, 3)
    lines = out.read_text().splitlines()
    assert len(lines) == 4 and all(json.loads(x) for x in lines)  # one record per input, no failure left
    assert "error" not in _records(out)[str(tree / "sub" / "bad.png")]


def test_two_workers_give_the_records_of_one(tree, tmp_path, tiny_models):
    items = collect([str(tree)])
    one = tmp_path / "one.jsonl"
    two = tmp_path / "two.jsonl"
    run_batch(items, one, reader_kwargs=_kwargs(tiny_models), progress=False)
    s = run_batch(items, two, reader_kwargs=_kwargs(tiny_models), workers=2, progress=False)
    assert (s.read, s.failed) == (3, 1)
    assert _records(one) == _records(two)


def test_folder_outputs_mirror_the_inputs(tree, tmp_path, tiny_models, capsys):
    out = tmp_path / "out"
    det, rec = tiny_models
    argv = ["batch", str(tree), "-o", str(out), "-f", "hocr", "--det", str(det), "--rec", str(rec),
            "--no-orient", "--no-progress"]
    assert main(argv) == 1  # one input failed
    rel = tree.relative_to(tree.anchor)
    written = sorted(p.relative_to(out / rel).as_posix() for p in (out / rel).rglob("*") if p.is_file())
    assert written == ["a.jpg.hocr", "a.png.hocr", "sub/b.png.hocr"]
    assert "ocr_line" in (out / rel / "a.png.hocr").read_text()
    assert "bad.png" in capsys.readouterr().err
    (tree / "sub" / "bad.png").unlink()
    (out / rel / "a.png.hocr").unlink()  # an output removed by hand is read again
    assert main(argv) == 0
    assert (out / rel / "a.png.hocr").exists()
    assert "1 read, 2 done before, 0 failed" in capsys.readouterr().err
    # per-file JSONL records too
    assert main([*argv[:4], "-f", "jsonl", *argv[6:]]) == 0
    rec = json.loads((out / rel / "sub" / "b.png.jsonl").read_text())
    assert rec["file"].endswith("b.png") and rec["pages"][0]["lines"][0]["text"] == "中中中中"


def test_parquet_output(tree, tmp_path, tiny_models):
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "results.parquet"
    run_batch(collect([str(tree)]), out, reader_kwargs=_kwargs(tiny_models), progress=False)
    rows = {r["id"]: r for r in pq.read_table(out).to_pylist()}
    assert len(rows) == 4
    good = rows[str(tree / "a.png")]
    assert good["text"] == "中中" and good["error"] is None and json.loads(good["pages"])[0]["lines"]
    assert rows[str(tree / "sub" / "bad.png")]["kind"] == "unsupported"
