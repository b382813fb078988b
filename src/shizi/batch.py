"""Many files on one machine: ``shizi batch`` (and :func:`run_batch`).

Inputs are files, folders (searched recursively for images and PDFs), glob patterns, or a manifest:
a text file of paths (one per line) or JSONL of ``{"id": ..., "path": ...}``. Each input has an
``id`` (the manifest's, else the path as given).

Outputs: one JSONL file (``-o results.jsonl``: per input the ``shizi read -f jsonl`` record plus its
``id``, or ``{"id", "file", "error", "kind"}`` for a failure), one Parquet file (``-o
results.parquet``: the same records as columns ``id, file, error, kind, text, pages`` with ``pages``
the record's pages as JSON), or a folder (``-o DIR/ -f text|json|jsonl|hocr|pdf``) mirroring the
input paths: ``scans/a/b.png`` is written to ``DIR/scans/a/b.png.txt`` (the whole input name is
kept, so ``b.png`` and ``b.jpg`` never overwrite each other; absolute paths are mirrored from the
root).

Resumable: every finished input is a line in a journal (the JSONL output itself; ``results.parquet.jsonl``
beside a Parquet file; ``DIR/shizi-batch.jsonl`` for a folder), written as it finishes. A re-run skips
the inputs the journal has read (and, for a folder, whose output file is there) and retries the
failed ones; the journal is first rewritten without the failures and any line cut off by a kill.

``workers`` processes read in parallel, each with its own Reader and one onnxruntime thread.
"""

from __future__ import annotations

import glob
import json
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError, ShiziError

#: file name endings of the inputs found in folders (other files there are ignored)
INPUT_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".pdf", ".gif", ".pbm", ".pgm",
                  ".ppm", ".jp2")
JOURNAL_NAME = "shizi-batch.jsonl"
MAX_FAILURES = 100  #: failure records kept in the Summary (all of them are in the journal)


@dataclass(frozen=True)
class Item:
    id: str
    path: str


@dataclass
class Summary:
    total: int = 0
    read: int = 0
    skipped: int = 0  #: done by an earlier run
    failed: int = 0
    failures: list[dict] = field(default_factory=list)  #: the first MAX_FAILURES failure records


# ---------------------------------------------------------------------------- inputs


def collect(inputs: Iterable[str], manifest: str | Path | None = None) -> list[Item]:
    """The inputs named by paths, folders, glob patterns and a manifest, in that order, each once."""
    items: list[Item] = []
    for arg in inputs:
        p = Path(arg)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.suffix.lower() in INPUT_SUFFIXES and f.is_file())
            items += [Item(str(f), str(f)) for f in found]
        elif p.exists() or p.is_symlink():
            items.append(Item(arg, arg))
        elif glob.has_magic(arg):
            matched = sorted(glob.glob(arg, recursive=True))
            if not matched:
                raise ShiziError(f"{arg}: no file matches this pattern")
            items += [Item(m, m) for m in matched if not Path(m).is_dir()]
        else:
            items.append(Item(arg, arg))  # a missing file is a failure record, like any other bad input
    if manifest is not None:
        items += read_manifest(manifest)
    seen: dict[str, str] = {}
    unique = []
    for it in items:
        if it.id in seen:
            if seen[it.id] != it.path:
                raise ShiziError(f"id {it.id!r} names two inputs: {seen[it.id]} and {it.path}")
            continue
        seen[it.id] = it.path
        unique.append(it)
    return unique


def read_manifest(path: str | Path) -> list[Item]:
    """A text file of paths, or JSONL of ``{"id", "path"}`` (``id`` defaults to the path); relative
    paths are relative to the manifest's folder."""
    base = Path(path).parent
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise ShiziError(f"cannot read manifest {path}: {e}") from None
    items = []
    for n, line in enumerate(lines, 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if s.startswith("{"):
            try:
                d = json.loads(s)
                p = str(d["path"])
            except (ValueError, KeyError, TypeError):
                raise ShiziError(f"{path}:{n}: a JSONL manifest line needs a \"path\"") from None
            full = p if os.path.isabs(p) else str(base / p)
            items.append(Item(str(d.get("id", p)), full))
        else:
            items.append(Item(s, s if os.path.isabs(s) else str(base / s)))
    return items


def mirror_path(path: str, fmt_ext: str) -> Path:
    """Where a folder output of ``path`` goes, relative to the output folder."""
    p = Path(os.path.normpath(path))
    if p.is_absolute() or ".." in p.parts:
        p = Path(os.path.abspath(path)).relative_to(Path(os.path.abspath(path)).anchor)
    return p.with_name(p.name + fmt_ext)


# ---------------------------------------------------------------------------- journal


class Journal:
    """Finished inputs, one JSON line each, appended as they finish (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: set[str] = set()  #: ids read (their records stay on disk, not in memory)
        if path.exists():  # rewritten line by line without failures and cut-off lines
            tmp = path.with_name(path.name + ".tmp")
            with open(path, encoding="utf-8", errors="replace") as src, \
                    open(tmp, "w", encoding="utf-8") as dst:
                for line in src:
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue  # a line cut off by a kill
                    if isinstance(rec, dict) and "id" in rec and "error" not in rec:
                        self.done.add(str(rec["id"]))
                        dst.write(line if line.endswith("\n") else line + "\n")
            os.replace(tmp, path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._f = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed by close()

    def add(self, record: dict) -> None:
        self._f.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        self._f.flush()
        if "error" not in record:
            self.done.add(str(record["id"]))

    def close(self) -> None:
        self._f.close()


# ---------------------------------------------------------------------------- work

_READER = None


def _init_worker(reader_kwargs: dict) -> None:
    global _READER
    from .reader import Reader

    _READER = Reader(**reader_kwargs)


def read_one(reader, item_id: str, path: str, fmt: str | None, read_kwargs: dict,
             data: bytes | None = None) -> tuple[dict, bytes | None]:
    """Read one input (``data``, else the file at ``path``) with ``reader``: (its record, None) when
    ``fmt`` is None (``parquet``: the record with its ``text``), else (a short record, the input's
    output file in format ``fmt``); or a failure record. Never raises."""
    try:
        doc = reader.read(data if data is not None else path, name=path, **read_kwargs)
        if fmt is None or fmt == "parquet":
            from .export import jsonl_record

            rec = {"id": item_id, **jsonl_record(doc, path)}
            if fmt == "parquet":
                rec["text"] = doc.text()
            return rec, None
        from .export import render

        payload = render(doc, fmt, name=path)
        return {"id": item_id, "file": path, "pages": len(doc.pages), "lines": len(doc.lines)}, payload
    except InputError as e:
        return {"id": item_id, "file": path, "error": e.problem, "kind": e.kind}, None
    except Exception as e:  # noqa: BLE001 - a failure is a record, never a stopped run
        return {"id": item_id, "file": path, "error": f"internal error: {type(e).__name__}: {e}",
                "kind": "internal"}, None


def _work(task: tuple[str, str, str | None, dict]) -> tuple[dict, bytes | None]:
    item_id, path, fmt, read_kwargs = task
    return read_one(_READER, item_id, path, fmt, read_kwargs)


def _run_tasks(tasks: list[tuple], reader_kwargs: dict, workers: int) -> Iterator[tuple[dict, bytes | None]]:
    """(record, output bytes) of ``tasks`` as they finish (in order with one worker)."""
    if workers <= 1:
        _init_worker(reader_kwargs)
        for t in tasks:
            yield _work(t)
        return
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    ctx = multiprocessing.get_context("spawn")  # no onnxruntime state inherited across fork
    todo = list(reversed(tasks))
    while todo:
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                                 initargs=(reader_kwargs,)) as pool:
            running: dict[Any, tuple] = {}
            try:
                while todo or running:
                    while todo and len(running) < 2 * workers:  # bounded: a few tasks in flight
                        t = todo.pop()
                        running[pool.submit(_work, t)] = t
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        t = running.pop(fut)
                        yield fut.result()
            except BrokenProcessPool:  # a worker died (killed, out of memory): its tasks fail, go on
                for t in running.values():
                    yield {"id": t[0], "file": t[1], "error": "worker process died while reading this input",
                           "kind": "internal"}, None


def run_batch(
    items: list[Item],
    out: str | Path,
    *,
    fmt: str = "jsonl",
    reader_kwargs: dict | None = None,
    read_kwargs: dict | None = None,
    workers: int = 1,
    progress: bool = True,
    ray: str | None = None,
) -> Summary:
    """Read ``items`` into ``out`` (a ``.jsonl`` / ``.parquet`` file, or a folder for per-file outputs
    in ``fmt``); see the module docstring. ``reader_kwargs`` build each worker's Reader (``threads`` is
    1), ``read_kwargs`` go to every ``Reader.read`` (``mode``, ``dpi``, ``script``). ``ray``: run on a
    Ray cluster instead of local processes (``"local"`` starts one here, else its address; the
    ``[ray]`` extra; :mod:`shizi.ray`), ``workers`` then being the number of actors (default: the
    cluster's CPUs)."""
    from .export import EXTENSIONS, FORMATS

    out = Path(out)
    reader_kwargs = {**(reader_kwargs or {}), "threads": 1}
    read_kwargs = dict(read_kwargs or {})
    to_file = out.suffix.lower() in (".jsonl", ".parquet") and not out.is_dir()
    if to_file:
        fmt = "parquet" if out.suffix.lower() == ".parquet" else "jsonl"
        journal_path = out.with_name(out.name + ".jsonl") if fmt == "parquet" else out
        if fmt == "parquet":
            _need_pyarrow()
    else:
        if fmt not in FORMATS:
            raise ShiziError(f"unknown format {fmt!r} (one of: {', '.join(FORMATS)})")
        journal_path = out / JOURNAL_NAME
    journal = Journal(journal_path)
    summary = Summary(total=len(items))
    tasks = []
    targets: dict[str, Path] = {}
    for it in items:
        target = None if to_file else out / mirror_path(it.path, EXTENSIONS[fmt])
        if it.id in journal.done and (target is None or target.exists()):
            summary.skipped += 1
            continue
        if target is not None:
            targets[it.id] = target
        # the task's format: None for a record (JSONL), "parquet" (a record with its text), or the
        # format of the input's own output file
        tasks.append((it.id, it.path, fmt if fmt == "parquet" or not to_file else None, read_kwargs))

    bar = None
    if progress and tasks:
        from tqdm import tqdm

        bar = tqdm(total=len(tasks), unit="file", desc="batch", file=sys.stderr, dynamic_ncols=True)
    if ray is not None:
        from .ray import run_tasks as ray_tasks

        results = ray_tasks(tasks, reader_kwargs, address=ray, actors=None if workers <= 1 else workers)
    else:
        results = _run_tasks(tasks, reader_kwargs, workers)
    try:
        for rec, payload in results:
            if payload is not None:
                rec = _write_output(rec, targets[rec["id"]], payload)
            journal.add(rec)
            if "error" in rec:
                summary.failed += 1
                if len(summary.failures) < MAX_FAILURES:
                    summary.failures.append(rec)
            else:
                summary.read += 1
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
        journal.close()
    if to_file and fmt == "parquet":
        write_parquet(journal_path, out)
    return summary


def _write_output(rec: dict, target: Path, payload: bytes) -> dict:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(payload)
        os.replace(tmp, target)
    except OSError as e:
        return {"id": rec["id"], "file": rec["file"], "error": f"cannot write {target}: {e}",
                "kind": "output"}
    return {**rec, "output": str(target)}


def _need_pyarrow():
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise ShiziError("Parquet output needs pyarrow: pip install 'shizi[parquet]'") from None


def write_parquet(journal: Path, out: Path) -> None:
    """The journal's records (the last one of each id) as a Parquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    last: dict[str, dict] = {}
    for line in journal.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        last[str(rec["id"])] = rec
    rows = [{"id": r["id"], "file": r.get("file"), "error": r.get("error"), "kind": r.get("kind"),
             "text": r.get("text"),
             "pages": None if "pages" not in r else json.dumps(r["pages"], ensure_ascii=False)}
            for r in last.values()]
    schema = pa.schema([("id", pa.string()), ("file", pa.string()), ("error", pa.string()),
                        ("kind", pa.string()), ("text", pa.string()), ("pages", pa.string())])
    tmp = out.with_name(out.name + ".tmp")
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), tmp)
    os.replace(tmp, out)


__all__ = ["Item", "Summary", "collect", "read_manifest", "mirror_path", "read_one", "run_batch",
           "INPUT_SUFFIXES"]
