"""Command line: ``shizi read``, ``shizi batch``, ``shizi models``, ... (subcommands register in
``COMMANDS``).

Exit status: 0 every input read; 1 some inputs failed (each named on stderr, the others are still
written); 2 usage error or no usable model.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from .errors import InputError, ModelError, ShiziError
from .export import EXTENSIONS, FORMATS
from .script import SCRIPTS


class UsageError(Exception):
    pass


# ----------------------------------------------------------------------------- read


def _add_read(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "read",
        help="read images / PDFs and print or write the text",
        description="Read images or PDFs. Exit 0: all read; 1: some inputs failed; 2: usage error.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="image (PNG, JPEG, BMP, WebP, TIFF) or PDF")
    p.add_argument("-f", "--format", choices=FORMATS, default="text", help="output format (default: text)")
    p.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="output file (one input, or any number for text/jsonl) or directory "
        "(one file per input); default: stdout (pdf needs -o)",
    )
    _add_reader_options(p)
    p.add_argument(
        "--overlay",
        metavar="PNG",
        help="also write an overlay picture (boxes and text) of the first page of each input; "
        "a directory when there are several inputs",
    )
    p.add_argument("--threads", type=int, default=1, help="onnxruntime threads per model (default: 1)")
    p.add_argument("--no-progress", action="store_true", help="never show the progress bar")
    p.set_defaults(func=cmd_read)


def _add_reader_options(p: argparse.ArgumentParser) -> None:
    """The options that build the Reader (``read`` and ``batch``)."""
    p.add_argument(
        "--mode",
        choices=("page", "line", "plate"),
        default="page",
        help="page: detect lines then recognise (default); line: each input is one text line; plate: the "
             "licence plates in each input (with --rec plate_zh)",
    )
    p.add_argument("--dpi", type=int, default=200, help="PDF rasterisation resolution (default: 200)")
    p.add_argument(
        "--det", metavar="NAME", help="detection model name or folder (default: installed default)"
    )
    p.add_argument(
        "--rec", metavar="NAME", help="recognition model name or folder (default: installed default)"
    )
    p.add_argument("--no-lm", action="store_true",
                   help="decode without the recognizer's language models (Han bigram, Latin word list)")
    p.add_argument("--no-reread", action="store_true",
                   help="read each line once, not unsure ones again at a second width (faster)")
    p.add_argument("--no-orient", action="store_true",
                   help="read pages as given, not turned upright first by the page-orientation model")
    p.add_argument("--script", choices=SCRIPTS, default="as-printed",
                   help="Chinese text as printed (default), or converted to simplified or traditional "
                   "characters with OpenCC (pip install 'shizi[script]')")
    p.add_argument("--max-pixels", type=int, default=None, help="per-page pixel limit (default: 100,000,000)")
    p.add_argument("--max-pages", type=int, default=None, help="per-input page limit (default: 500)")


def _reader_kwargs(args: argparse.Namespace) -> dict:
    from .io import DEFAULT_MAX_PAGES, DEFAULT_MAX_PIXELS

    return dict(
        detector=False if args.mode == "line" else args.det,
        recognizer=args.rec,
        threads=args.threads,
        lm=not args.no_lm,
        reread=not args.no_reread,
        orient=not args.no_orient,
        script=args.script,
        dpi=args.dpi,
        max_pixels=args.max_pixels or DEFAULT_MAX_PIXELS,
        max_pages=args.max_pages or DEFAULT_MAX_PAGES,
    )


def _make_reader(args: argparse.Namespace):
    from .reader import Reader

    return Reader(**_reader_kwargs(args))


def cmd_read(args: argparse.Namespace) -> int:
    from .export import jsonl_error, render, to_jsonl_line

    if args.dpi <= 0 or args.threads <= 0:
        raise UsageError("--dpi and --threads must be positive")
    files: list[str] = args.files
    fmt: str = args.format
    out = Path(args.output) if args.output else None
    many = len(files) > 1
    single_stream = fmt in ("text", "jsonl")
    out_dir: Path | None = None
    if out is not None and (out.is_dir() or (many and not single_stream) or str(args.output).endswith("/")):
        out_dir = out
    if fmt == "pdf" and out is None:
        raise UsageError("-f pdf needs -o OUT (a file, or a directory for several inputs)")
    if fmt in ("hocr", "alto") and many and out_dir is None:
        raise UsageError(f"-f {fmt} makes one document per input: give several inputs -o DIR/")
    overlay_dir: Path | None = None
    if args.overlay and (many or Path(args.overlay).is_dir()):
        overlay_dir = Path(args.overlay)
    elif args.overlay and not Path(args.overlay).parent.is_dir():
        raise UsageError(f"--overlay {args.overlay}: folder {Path(args.overlay).parent} does not exist")
    for folder in (d for d in (out_dir, overlay_dir) if d is not None):
        _check_distinct_names(files, folder)
    for folder in (d for d in (out_dir, overlay_dir) if d is not None):
        folder.mkdir(parents=True, exist_ok=True)

    reader = _make_reader(args)  # ModelError propagates → exit 2

    stream = None
    if out_dir is None:
        if out is None:
            stream = sys.stdout
        elif fmt != "pdf":
            stream = open(out, "w", encoding="utf-8")  # noqa: SIM115

    from tqdm import tqdm

    show = not args.no_progress
    bar = None
    pages_done = 0
    failed = 0
    json_docs: list[dict] = []
    try:
        for fi, f in enumerate(files):
            try:
                pages = []
                for page in reader.iter_pages(f, mode=args.mode, name=f):
                    pages.append(page)
                    pages_done += 1
                    if show and bar is None and pages_done == 2:
                        bar = tqdm(
                            unit="page", file=sys.stderr, desc="reading", leave=False, dynamic_ncols=True
                        )
                        bar.update(1)
                    if bar is not None:
                        bar.update(1)
                from .document import Document

                doc = Document(pages, source=f, models=reader.model_names(args.mode))
            except InputError as e:
                failed += 1
                _warn(bar, f"shizi: error: {e}")
                if fmt == "jsonl":
                    _write(stream, out_dir, f, fmt, to_jsonl_line(jsonl_error(f, e.problem)) + "\n")
                continue
            if fmt == "json" and out_dir is None and many:
                json_docs.append(doc.to_dict())
            elif fmt == "pdf":
                target = (out_dir / (Path(f).stem + ".pdf")) if out_dir else out
                _write_file(target, render(doc, fmt, name=f))
            else:
                body = render(doc, fmt, name=f).decode("utf-8")
                if fmt == "text" and many and out_dir is None:
                    body = f"==> {f} <==\n{body}" + ("\n" if fi < len(files) - 1 else "")
                _write(stream, out_dir, f, fmt, body)
            if args.overlay and doc.pages:
                target = (overlay_dir / (Path(f).stem + ".png")) if overlay_dir else Path(args.overlay)
                doc.render(0, path=target)
        if json_docs:
            stream.write(json.dumps(json_docs, ensure_ascii=False, indent=2) + "\n")
    finally:
        if bar is not None:
            bar.close()
        if stream is not None and stream is not sys.stdout:
            stream.close()
        elif stream is sys.stdout:
            sys.stdout.flush()
    return 1 if failed else 0


def _warn(bar, msg: str) -> None:
    if bar is not None:
        bar.write(msg, file=sys.stderr)
    else:
        print(msg, file=sys.stderr)


def _check_distinct_names(files: list[str], folder: Path) -> None:
    """Outputs in ``folder`` are named by each input's stem: refuse inputs that would overwrite one
    another's output there."""
    seen: dict[str, str] = {}
    for f in files:
        other = seen.setdefault(Path(f).stem, f)
        if other != f:
            raise UsageError(f"{other} and {f} would write the same output in {folder}/ "
                             "(outputs are named by the input's name): read them into separate folders")


def _write(stream, out_dir: Path | None, f: str, fmt: str, body: str) -> None:
    if out_dir is not None:
        _write_file(out_dir / (Path(f).stem + EXTENSIONS[fmt]), body.encode("utf-8"))
    else:
        stream.write(body)


def _write_file(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as e:
        raise ShiziError(f"cannot write {path}: {e}") from None


# ----------------------------------------------------------------------------- batch


def _add_batch(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "batch",
        help="read many files (folders, globs, a manifest) into JSONL, Parquet or a folder; resumable",
        description="Read many inputs with several processes. A re-run skips what is done and retries "
        "what failed. Exit 0: all read; 1: some inputs failed (records in the output); 2: usage error.",
    )
    p.add_argument("inputs", nargs="*", metavar="INPUT",
                   help="files, folders (searched recursively) or globs")
    p.add_argument("--manifest", metavar="FILE", help="a text file of paths, or JSONL of {\"id\", \"path\"}")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="results.jsonl, results.parquet, or a folder (per-file outputs in -f's format)")
    p.add_argument("-f", "--format", choices=FORMATS, default="text",
                   help="per-file format when OUT is a folder (default: text)")
    p.add_argument("--workers", type=int, default=1,
                   help="processes, one thread each (default: 1); with --ray: actors "
                   "(default: the cluster's CPUs)")
    p.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                   help="read on a Ray cluster: its address (e.g. auto, ray://head:10001), or none to start "
                   "one here (pip install 'shizi[ray]')")
    _add_reader_options(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_batch, threads=1)


def cmd_batch(args: argparse.Namespace) -> int:
    from .batch import collect, run_batch

    if args.workers < 1 or args.dpi <= 0:
        raise UsageError("--workers and --dpi must be positive")
    if not args.inputs and not args.manifest:
        raise UsageError("give inputs (files, folders, globs) or --manifest")
    items = collect(args.inputs, args.manifest)
    if not items:
        raise UsageError("no inputs found")
    kwargs = _reader_kwargs(args)
    if args.workers > 1 or args.ray:
        _make_reader(args)  # a missing model is said once here, not by every worker process
    summary = run_batch(items, args.output, fmt=args.format, reader_kwargs=kwargs,
                        read_kwargs={"mode": args.mode}, workers=args.workers, progress=not args.no_progress,
                        ray=args.ray)
    for rec in summary.failures[:20]:
        print(f"shizi: error: {rec['file']}: {rec['error']}", file=sys.stderr)
    print(f"batch: {summary.total} inputs: {summary.read} read, {summary.skipped} done before, "
          f"{summary.failed} failed -> {args.output}", file=sys.stderr)
    return 1 if summary.failed else 0


# ----------------------------------------------------------------------------- models


def _add_models(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list the installed models with size and model-card accuracy")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_models)


def cmd_models(args: argparse.Namespace) -> int:
    from .models import list_models

    models = list_models()
    rows = [
        {
            "name": m.name,
            "task": m.task,
            "arch": m.arch,
            "default": m.default,
            "size_mb": round(m.size_bytes / 1e6, 2),
            "metrics": m.metrics,
            "path": str(m.path),
        }
        for m in models
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("no models installed (model folders go under src/shizi/models/<name>/)")
        return 0
    print(f"{'name':<24} {'task':<12} {'arch':<16} {'size':>9}  default  accuracy (model card)")
    for r in rows:
        metrics = ", ".join(f"{k}={v}" for k, v in r["metrics"].items()) or "-"
        print(
            f"{r['name']:<24} {r['task']:<12} {r['arch']:<16} {r['size_mb']:>7.2f}MB  "
            f"{'yes' if r['default'] else '':<7}  {metrics}"
        )
    return 0


# ----------------------------------------------------------------------------- serve


def _add_serve(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="HTTP service (POST /v1/ocr) and web page (/)",
        description="Run the OCR HTTP service (FastAPI + uvicorn): POST /v1/ocr, GET /healthz, "
        "GET /v1/models, the web page at /, API docs at /docs. Needs the [serve] extra.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    p.add_argument("--workers", type=int, default=2, help="inference threads per process (default: 2)")
    p.add_argument("--processes", type=int, default=1,
                   help="server processes under uvicorn's process manager (restarted when one dies), each "
                   "with its own models, --workers threads and --queue (default: 1)")
    p.add_argument("--queue", type=int, default=8, help="requests that may wait for a worker; more → 503")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per request → 504 (default: 120)")
    p.add_argument("--upload-timeout", type=float, default=30.0,
                   help="seconds to receive a request body → 408 (default: 30)")
    p.add_argument("--threads", type=int, default=1, help="onnxruntime threads per model (default: 1)")
    p.add_argument("--det", metavar="NAME", help="default detection model name or folder")
    p.add_argument("--rec", metavar="NAME", help="default recognition model name or folder")
    p.add_argument("--max-upload-mb", type=float, default=25.0, help="upload limit in MB (default: 25)")
    p.add_argument("--max-pixels", type=int, default=40_000_000, help="per-page pixel limit (default: 40M)")
    p.add_argument("--max-pages", type=int, default=20, help="per-upload page limit (default: 20)")
    p.add_argument("--dpi", type=int, default=200, help="default PDF rasterisation dpi (default: 200)")
    p.add_argument("--no-orient", action="store_true", help="read pages as given, not turned upright first")
    p.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    if min(args.workers, args.processes, args.threads, args.port + 1, args.max_pages, args.max_pixels,
           args.dpi) <= 0:
        raise UsageError("--workers, --processes, --threads, --max-pages, --max-pixels and --dpi "
                         "must be positive")
    if args.queue < 0 or args.timeout <= 0 or args.max_upload_mb <= 0 or args.upload_timeout <= 0:
        raise UsageError("--queue must be >= 0, --timeout, --upload-timeout and --max-upload-mb positive")
    try:
        import uvicorn

        from .service.app import ServiceConfig, create_app
    except ImportError as e:
        raise ShiziError(f"shizi serve needs the [serve] extra: pip install 'shizi[serve]' ({e})") from None
    cfg = ServiceConfig(
        det=args.det,
        rec=args.rec,
        workers=args.workers,
        queue=args.queue,
        timeout=args.timeout,
        upload_timeout=args.upload_timeout,
        threads=args.threads,
        max_upload_bytes=int(args.max_upload_mb * 1024 * 1024),
        max_pixels=args.max_pixels,
        max_pages=args.max_pages,
        dpi=args.dpi,
        orient=not args.no_orient,
    )
    limits = {"host": args.host, "port": args.port, "log_level": args.log_level, "timeout_keep_alive": 5,
              "limit_concurrency": max(64, 4 * (args.workers + args.queue))}
    if args.processes > 1:
        import dataclasses
        import os

        from .models import default_model, find_model

        for task, spec in (("detection", cfg.det), ("recognition", cfg.rec)):  # said here, not per process
            find_model(spec, task=task) if spec is not None else default_model(task)
        os.environ["SHIZI_SERVICE_CONFIG"] = json.dumps(dataclasses.asdict(cfg))
        print(f"shizi: serving on http://{args.host}:{args.port}/ with {args.processes} processes",
              file=sys.stderr)
        uvicorn.run("shizi.service.app:app_from_env", factory=True, workers=args.processes, **limits)
        return 0
    app = create_app(cfg)  # loads the default models once; ModelError → exit 2
    print(f"shizi: serving on http://{args.host}:{args.port}/ (API docs: /docs)", file=sys.stderr)
    uvicorn.run(app, **limits)
    return 0


# ----------------------------------------------------------------------------- eval


def _add_eval(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="score models on a labeled set (page CER + detection P/R/H-mean, or line CER)",
        description="Score the reader on a labels.jsonl set in the format of shared/eval: page sets "
        "({image, lines:[{text, box|poly}]}) give page CER and detection precision/recall/H-mean at IoU 0.5; "
        "line sets ({image, text}) give line CER (recognition only).",
    )
    p.add_argument("labels", type=Path, help="labels.jsonl (image paths relative to its folder)")
    p.add_argument("--det", metavar="NAME", help="detection model name or folder")
    p.add_argument("--rec", metavar="NAME", help="recognition model name or folder")
    p.add_argument("--threads", type=int, default=1, help="onnxruntime threads (default: 1)")
    p.add_argument("--no-lm", action="store_true",
                   help="decode without the recognizer's language models (Han bigram, Latin word list)")
    p.add_argument("--no-reread", action="store_true",
                   help="read each line once, not unsure ones again at a second width (faster)")
    p.add_argument("--no-orient", action="store_true", help="read pages as given, not turned upright first")
    p.add_argument("--limit", type=int, help="only the first N items")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.set_defaults(func=cmd_eval)


def cmd_eval(args: argparse.Namespace) -> int:
    from .evaluate import evaluate, load_labels
    from .reader import Reader

    if not args.labels.is_file():
        raise UsageError(f"{args.labels}: no such labels file")
    line_set = "lines" not in load_labels(args.labels)[0]
    reader = Reader(detector=False if line_set else args.det, recognizer=args.rec, threads=args.threads,
                    lm=not args.no_lm, reread=not args.no_reread, orient=not args.no_orient)
    res = evaluate(reader, args.labels, limit=args.limit)
    if args.json:
        print(json.dumps(res, ensure_ascii=False, indent=2))
        return 0
    print(f"{res['set']}: {res['n']} {res['kind']}s, "
          f"CER {res['cer']:.4f} ({res['errors']}/{res['ref_chars']}), "
          f"median {res['seconds_median'] * 1000:.1f} ms per {res['kind']}")
    if "hmean" in res:
        print(f"detection @IoU0.5: precision {res['precision']:.4f} recall {res['recall']:.4f} "
              f"H-mean {res['hmean']:.4f}")
    for f in res["failed"]:
        print(f"failed: {f['file']}: {f['error']}", file=sys.stderr)
    return 1 if res["failed"] else 0


# ----------------------------------------------------------------------------- main

#: Subcommand registrars: each adds one subparser with ``set_defaults(func=...)``.
#: Adding a subcommand (e.g. ``serve``, ``eval``) = one ``_add_x`` function appended here.
COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_read, _add_batch, _add_models, _add_serve, _add_eval]


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="shizi", description="识字 shizi — offline OCR for Chinese and English"
    )
    parser.add_argument("--version", action="version", version=f"shizi {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 on usage errors
    try:
        return int(args.func(args) or 0)
    except UsageError as e:
        parser.error(str(e))  # exits 2
    except ModelError as e:
        print(f"shizi: error: {e}", file=sys.stderr)
        return 2
    except ShiziError as e:
        print(f"shizi: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
