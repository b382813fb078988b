"""Generate ``docs_zh_hard``: a harder page set derived from ``../shared/eval/docs_zh``.

    python bench/make_hard.py [OUT_DIR]      (default bench/out/docs_zh_hard; deterministic, seed 0)

Every third clean page (10 of 30) is degraded harder than docs_zh_scan:
- downscaled to 50-65 % (body text ~15-20 px high instead of ~30),
- rotated 3-5 degrees either way (docs_zh_scan: 1-2),
- Gaussian blur sigma 0.6-1.0, a lighting gradient that darkens one side to 55-70 %,
  Gaussian noise sigma 6-10, JPEG quality 25-35.
Labels keep the docs_zh format plus ``poly``: the reference line boxes put through the same affine
transform (exact, since the transform is known), so detection is scored against rotated quads.
Only evaluation pages are used; nothing here is meant for training.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
SRC = (HERE / ".." / ".." / "shared" / "eval" / "docs_zh").resolve()


def degrade(img: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Return the degraded BGR image and the 2x3 affine from source to output pixels."""
    h, w = img.shape[:2]
    scale = rng.uniform(0.5, 0.65)
    angle = rng.uniform(3.0, 5.0) * rng.choice([-1, 1])
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    # fit the rotated, scaled page into a canvas with a small margin
    corners = np.array([[0, 0, 1], [w, 0, 1], [w, h, 1], [0, h, 1]], dtype=np.float64) @ m.T
    x0, y0 = corners.min(axis=0) - 8
    x1, y1 = corners.max(axis=0) + 8
    m[:, 2] -= (x0, y0)
    out_w, out_h = int(np.ceil(x1 - x0)), int(np.ceil(y1 - y0))
    out = cv2.warpAffine(img, m, (out_w, out_h), flags=cv2.INTER_AREA, borderValue=(255, 255, 255))
    out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.6, 1.0)).astype(np.float32)
    low = rng.uniform(0.55, 0.7)
    ramp = np.linspace(low, 1.0, out_w, dtype=np.float32)
    if rng.random() < 0.5:
        ramp = ramp[::-1]
    out *= ramp[None, :, None]
    out += rng.normal(0, rng.uniform(6, 10), out.shape).astype(np.float32)
    out = np.clip(out, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(25, 36))])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_COLOR), m


def make(out_dir: Path, every: int = 3, seed: int = 0) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    labels = [
        json.loads(x) for x in (SRC / "labels.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()
    ]
    rng = np.random.default_rng(seed)
    rows = []
    for lab in labels[::every]:
        img = cv2.imread(str(SRC / lab["image"]), cv2.IMREAD_COLOR)
        out, m = degrade(img, rng)
        name = Path(lab["image"]).stem + ".jpg"
        cv2.imwrite(str(out_dir / name), out, [cv2.IMWRITE_JPEG_QUALITY, 95])
        lines = []
        for ln in lab["lines"]:
            x0, y0, x1, y1 = ln["box"]
            quad = np.array([[x0, y0, 1], [x1, y0, 1], [x1, y1, 1], [x0, y1, 1]], dtype=np.float64) @ m.T
            poly = [[round(float(x), 1), round(float(y), 1)] for x, y in quad]
            xs, ys = [p[0] for p in poly], [p[1] for p in poly]
            lines.append(
                {
                    "text": ln["text"],
                    "poly": poly,
                    "box": [min(xs), min(ys), max(xs), max(ys)],
                    "paragraph": ln.get("paragraph"),
                }
            )
        rows.append(
            {
                "image": name,
                "width": out.shape[1],
                "height": out.shape[0],
                "source": lab["image"],
                "lines": lines,
            }
        )
    with open(out_dir / "labels.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return out_dir


if __name__ == "__main__":
    print(make(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "out" / "docs_zh_hard"))
