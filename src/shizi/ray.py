"""OCR on a Ray cluster with Ray Data (``pip install 'shizi[ray]'``).

``read_dataset(ds)`` maps a dataset of files (``ray.data.read_binary_files(paths, include_paths=True)``:
columns ``bytes`` and ``path``) to one row per file — ``file``, ``error``, ``kind``, ``text`` and
``record`` (the ``shizi read -f jsonl`` record as JSON) — with ``map_batches`` over :class:`ReadBatch`, a
callable class that loads one :class:`shizi.Reader` per actor (``num_cpus=1``, one onnxruntime
thread). Write the result with ``write_parquet`` / ``write_json``, or let ``shizi batch --ray`` (which
calls :func:`run_tasks`) journal it like a local run::

    import ray, shizi.ray
    ds = ray.data.read_binary_files("s3://bucket/scans/", include_paths=True)
    shizi.ray.read_dataset(ds, concurrency=16).write_parquet("s3://bucket/ocr/")

The files are read where the actors run: on a cluster they must be on storage every node sees (S3,
NFS, ...). Models are the ones installed with shizi on each node (or folders named in
``reader_kwargs`` that every node has).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from .errors import ShiziError


class ReadBatch:
    """``map_batches`` callable: one Reader per actor; a batch of ``bytes``/``path`` rows in, one result
    row per file out. ``fmt`` (an output format) fills ``output`` with that format's bytes."""

    def __init__(self, reader_kwargs: dict | None = None, read_kwargs: dict | None = None,
                 fmt: str | None = None) -> None:
        from .reader import Reader

        self.reader = Reader(**{**(reader_kwargs or {}), "threads": 1})
        self.read_kwargs = dict(read_kwargs or {})
        self.fmt = fmt

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list]:
        from .batch import read_one

        out: dict[str, list] = {k: [] for k in ("file", "error", "kind", "text", "record", "output")}
        for data, path in zip(batch["bytes"], batch["path"], strict=True):
            path = str(path)
            fmt = self.fmt or "parquet"  # parquet: the record with its text
            rec, payload = read_one(self.reader, path, path, fmt, self.read_kwargs, data=bytes(data))
            rec.pop("id", None)
            out["file"].append(path)
            out["error"].append(rec.get("error"))
            out["kind"].append(rec.get("kind"))
            out["text"].append(rec.pop("text", None))
            out["record"].append(json.dumps(rec, ensure_ascii=False, separators=(",", ":")))
            out["output"].append(payload if payload is not None else b"")
        return out


def read_dataset(ds, *, concurrency: int | None = None, batch_size: int = 4,
                 reader_kwargs: dict | None = None, read_kwargs: dict | None = None, fmt: str | None = None):
    """``ds`` (``bytes`` and ``path`` columns) read by ``concurrency`` actors (default: the cluster's
    CPUs), ``batch_size`` files per call."""
    import ray

    if concurrency is None:
        concurrency = max(1, int(ray.cluster_resources().get("CPU", 1)))
    return ds.map_batches(ReadBatch, fn_constructor_kwargs={"reader_kwargs": reader_kwargs,
                                                            "read_kwargs": read_kwargs, "fmt": fmt},
                          batch_size=batch_size, num_cpus=1, concurrency=concurrency, batch_format="numpy")


def _init(address: str) -> None:
    try:
        import ray
        import ray.data
    except ImportError:
        raise ShiziError("--ray needs Ray: pip install 'shizi[ray]'") from None
    import logging

    for name in ("ray", "ray.data"):  # progress is shizi batch's own bar; Ray's warnings still show
        logging.getLogger(name).setLevel(logging.WARNING)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    if not ray.is_initialized():
        kw: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                              "configure_logging": False}
        if address == "local":
            ray.init(**kw)
        else:
            ray.init(address=address, **kw)


def run_tasks(tasks: list[tuple], reader_kwargs: dict, *, address: str = "local",
              actors: int | None = None) -> Iterator[tuple[dict, bytes | None]]:
    """``shizi batch --ray``: (record, output bytes) of each ``(id, path, fmt, read_kwargs)`` task, read
    on the cluster (``read_binary_files`` → :func:`read_dataset`), as the rows come back."""
    import ray

    from .errors import InputError
    from .io import DEFAULT_MAX_BYTES, check_file

    if not tasks:
        return
    _init(address)
    max_bytes = reader_kwargs.get("max_bytes", DEFAULT_MAX_BYTES)
    ids: dict[str, list[str]] = {}
    paths = []
    for item_id, path, _fmt, _ in tasks:
        try:  # read_binary_files would stop the whole run on such a file
            check_file(path, path, max_bytes)
        except InputError as e:
            yield {"id": item_id, "file": path, "error": e.problem, "kind": e.kind}, None
            continue
        ids.setdefault(path, []).append(item_id)
        if len(ids[path]) == 1:
            paths.append(path)
    if not paths:
        return
    fmt, read_kwargs = tasks[0][2], tasks[0][3]  # None (records), "parquet" or a per-file format
    # reading files is I/O: the read tasks take no CPU slot, so that every CPU can hold a Reader actor
    # (at 1 CPU, two actors on 2 CPUs never started); at most two of them at once (zero-CPU tasks
    # are otherwise unbounded: 96 worker processes for 200 files were seen)
    # and enough blocks for every actor (left to itself, Ray put 200 files in one block: one actor read)
    ds = ray.data.read_binary_files(paths, include_paths=True, num_cpus=0, concurrency=2,
                                    override_num_blocks=min(len(paths), 1000))
    # read_binary_files names local files by their absolute path: map back to the path as given
    given = {os.path.abspath(p): p for p in paths}
    rows = read_dataset(ds, concurrency=actors, reader_kwargs=reader_kwargs, read_kwargs=read_kwargs,
                        fmt=None if fmt in (None, "parquet") else fmt)
    for row in rows.iter_rows():
        path = given.get(os.path.abspath(str(row["file"])), str(row["file"]))
        rec = json.loads(row["record"])
        rec["file"] = path
        if fmt == "parquet" and row["text"] is not None:
            rec["text"] = row["text"]
        payload = bytes(row["output"]) if row["output"] is not None and len(row["output"]) else None
        for item_id in ids.get(path, [path]):
            yield {"id": item_id, **rec}, payload


__all__ = ["ReadBatch", "read_dataset", "run_tasks"]
