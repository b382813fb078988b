"""shizi batch on Ray: a local Ray (2 CPUs) gives exactly the records of the sequential run."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from conftest import draw_line

ray = pytest.importorskip("ray")

from shizi.batch import Item, collect, run_batch  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def test_ray_run_equals_the_sequential_run(tmp_path, tiny_models, local_ray):
    root = tmp_path / "pages"
    root.mkdir()
    for k in range(30):  # 1..6 pieces on one or two lines
        img = np.full((120, 420, 3), 255, np.uint8)
        draw_line(img, 20, 20, 1 + k % 6, piece_w=18, gap=12)
        if k % 3 == 0:
            draw_line(img, 20, 70, 1 + (k // 3) % 5, piece_w=18, gap=12)
        Image.fromarray(img).save(root / f"p{k:02d}.png")
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)  # failures come back as records
    det, rec = tiny_models
    kwargs = {"detector": str(det), "recognizer": str(rec), "orient": False}
    items = collect([str(root)]) + [Item("gone", str(root / "gone.png"))]  # checked before Ray reads
    seq, on_ray = tmp_path / "seq.jsonl", tmp_path / "ray.jsonl"
    run_batch(items, seq, reader_kwargs=kwargs, progress=False)
    s = run_batch(items, on_ray, reader_kwargs=kwargs, workers=2, progress=False, ray="local")
    assert (s.read, s.failed) == (30, 2)

    def records(p):
        return {r["id"]: r for r in map(json.loads, p.read_text().splitlines())}

    assert records(on_ray) == records(seq)
    assert records(on_ray)["gone"]["kind"] == "not_found"
    # a re-run on Ray skips everything read before
    again = run_batch(items, on_ray, reader_kwargs=kwargs, workers=2, progress=False, ray="local")
    assert (again.read, again.skipped, again.failed) == (0, 30, 2)
