"""The HTTP service: a FastAPI (ASGI) app around :class:`shizi.Reader`, plus the static web page.

Endpoints:

- ``POST /v1/ocr``: an image or PDF as a multipart upload (field ``file``) or as the raw request body.
  Query options (also accepted as multipart form fields): ``format`` = ``json`` (default: the
  ``shizi read -f jsonl`` record) | ``text`` | ``hocr`` | ``alto`` (ALTO 4.4 XML) | ``pdf`` (searchable
  PDF); ``dpi`` (PDF rasterisation); ``det`` / ``rec`` (installed model names); ``mode`` =
  ``page`` | ``line``; ``script`` = ``as-printed`` (default) | ``simplified`` | ``traditional``
  (OpenCC conversion);
  ``include`` (json only, comma list: ``text`` adds the reading-order text, ``images`` adds each
  page as a JPEG data URL — used by the web page; without it the JSON is exactly the jsonl record).
- ``GET /healthz``, ``GET /v1/models``, ``GET /`` (the web page), ``/docs`` and ``/openapi.json``.

Errors are JSON ``{"error": "..."}``: 408 upload not received within ``upload_timeout``, 413 upload /
pixels / pages over a limit, 415 unsupported type, 422 broken input or bad option, 503 inference queue
or uploads full, 504 request timeout (the work stops at its next page), 500 anything unexpected (the
server keeps running).

Models load once: one Reader per (detector, recognizer) pair, created on first use and cached.
Inference (decoding, detection, recognition, export) runs in a bounded thread pool of ``workers``
threads with at most ``queue`` requests waiting; a request takes its place there only once its body
is received (at most ``uploads`` bodies at once), so memory stays bounded; onnxruntime sessions and
Readers are shared by the threads (they keep no per-call state).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import io
import json
import logging
import math
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import InputError, ModelError, ShiziError
from ..script import SCRIPTS, converter

log = logging.getLogger("shizi.service")

STATIC_DIR = Path(__file__).resolve().parent / "static"
SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "sample.png"
#: ``format`` values; ``json`` is the ``shizi read -f jsonl`` record (``jsonl`` is accepted for it)
FORMATS = ("json", "text", "hocr", "alto", "pdf")
INCLUDES = ("text", "images")


@dataclass
class ServiceConfig:
    """Service settings (``shizi serve`` options)."""

    det: str | None = None  #: default detector: installed name or model folder (None: installed default)
    rec: str | None = None  #: default recognizer
    workers: int = 2  #: inference threads
    queue: int = 8  #: requests allowed to wait for a worker; beyond that → 503
    timeout: float = 120.0  #: seconds per request (upload + queue + inference) → 504
    #: bodies being received at once (each at most max_upload_bytes), apart from the worker slots:
    #: a slow upload holds one of these, never a worker or queue slot; beyond that → 503
    uploads: int = 64
    upload_timeout: float = 30.0  #: seconds to receive a request body → 408
    threads: int = 1  #: onnxruntime intra-op threads per model
    orient: bool = True  #: turn pages upright first with the installed page-orientation model
    max_upload_bytes: int = 25 * 1024 * 1024
    max_pixels: int = 40_000_000  #: per page
    max_pages: int = 20  #: per input
    dpi: int = 200  #: default PDF rasterisation
    min_dpi: int = 36
    max_dpi: int = 600
    image_max_side: int = 1600  #: page images returned with include=images
    preload: bool = True  #: load the default models when the app is created


class ServiceError(Exception):
    """An error answered as ``{"error": message, "kind": kind}`` with ``status`` (``kind`` only where
    one is known: an input error's :attr:`shizi.InputError.kind`)."""

    def __init__(self, status: int, message: str, kind: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind


@dataclass(frozen=True)
class OCRRequest:
    """One request's validated options (:func:`parse_options`)."""

    name: str = "upload"  #: the input's name in the result
    fmt: str = "json"  #: one of FORMATS
    dpi: int = 200
    det: str | None = None  #: detector name (None: the default)
    rec: str | None = None
    mode: str = "page"  #: page | line
    include: tuple[str, ...] = ()  #: json extras: text, images
    script: str = "as-printed"  #: as-printed | simplified | traditional (OpenCC)


INPUT_ERROR_STATUS = {"too_large": 413, "unsupported": 415}


def input_error_status(e: InputError) -> int:
    """HTTP status of a bad input, by its ``kind``: 413 over a limit, 415 unsupported type, 422 else."""
    return INPUT_ERROR_STATUS.get(e.kind, 422)


class OCRService:
    """Model cache and bounded inference pool; framework-independent (the FastAPI app wraps it)."""

    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self.pool = ThreadPoolExecutor(max_workers=max(1, config.workers), thread_name_prefix="shizi-ocr")
        self._slots_lock = threading.Lock()
        self._pending = 0  # reserved slots: requests reading their body, queued or running
        self._running = 0
        self._uploading = 0
        self._readers: dict[tuple[str, str], Any] = {}
        self._stages: dict[tuple[str, str], Any] = {}
        self._load_lock = threading.Lock()
        self._defaults: dict[str, str] = {}
        self.served = 0
        self.started = time.time()
        if config.preload:
            self.reader(None, None)

    # ------------------------------------------------------------------ models

    def catalogue(self) -> dict[str, list[dict]]:
        """Installed models plus the configured defaults (which may be model folders)."""
        from ..models import find_model, list_models

        out: dict[str, list[dict]] = {"detection": [], "recognition": []}
        seen: set[tuple[str, str]] = set()
        infos = []
        for task, spec in (("detection", self.config.det), ("recognition", self.config.rec)):
            if spec is not None:
                try:
                    infos.append((find_model(spec, task=task), True))
                except ModelError:
                    pass
        infos += [(m, False) for m in list_models() if m.task in out]  # not language models
        for m, configured in infos:
            if (m.task, m.name) in seen:
                continue
            seen.add((m.task, m.name))
            out[m.task].append(
                {
                    "name": m.name,
                    "arch": m.arch,
                    "default": m.name == self.default_name(m.task),
                    "size_mb": round(m.size_bytes / 1e6, 2),
                    "metrics": m.metrics,
                    "configured": configured,
                }
            )
        return out

    def default_name(self, task: str) -> str | None:
        """Name of the default model of ``task`` (None when none is installed); cached once found."""
        from ..models import default_model, find_model

        name = self._defaults.get(task)
        if name is None:
            spec = self.config.det if task == "detection" else self.config.rec
            try:
                name = (find_model(spec, task=task) if spec is not None else default_model(task)).name
            except ModelError:
                return None
            self._defaults[task] = name
        return name

    def _resolve(self, task: str, name: str | None) -> tuple[str, Any]:
        """(cache key, spec for the loader) of a requested model name. Requests may name installed
        models (or the configured default) only — never a path on the server."""
        from ..models import default_model, find_model, list_models

        spec = self.config.det if task == "detection" else self.config.rec
        if name:
            if name == self.default_name(task):
                return name, spec
            if name in {m.name for m in list_models(task)}:
                return name, name
            kind = "detector" if task == "detection" else "recognizer"
            known = ", ".join(m["name"] for m in self.catalogue()[task]) or "none"
            raise ServiceError(422, f"unknown {kind} {name!r} (installed: {known})")
        default = self.default_name(task)
        if default is None:
            try:
                find_model(spec, task=task) if spec is not None else default_model(task)
            except ModelError as e:
                raise ServiceError(503, str(e)) from None
        return default, spec

    def _stage(self, task: str, key: str, spec: Any) -> Any:
        from ..detection import load_detector
        from ..recognition import load_recognizer

        with self._load_lock:
            obj = self._stages.get((task, key))
            if obj is None:
                try:
                    if task == "detection":
                        obj = load_detector(spec, threads=self.config.threads)
                    else:
                        obj = load_recognizer(spec, threads=self.config.threads)
                except ModelError as e:
                    raise ServiceError(503, str(e)) from None
                self._stages[(task, key)] = obj
            return obj

    def reader(self, det: str | None, rec: str | None, mode: str = "page"):
        """The cached Reader for ``(det, rec)`` (names; None = default). Loads models on first use."""
        from ..reader import Reader

        rkey, rspec = self._resolve("recognition", rec)
        dkey, dspec = ("-", None) if mode == "line" else self._resolve("detection", det)
        key = (dkey, rkey)
        r = self._readers.get(key)
        if r is None:
            recognizer = self._stage("recognition", rkey, rspec)
            detector = False if mode == "line" else self._stage("detection", dkey, dspec)
            with self._load_lock:
                r = self._readers.get(key)
                if r is None:
                    r = Reader(
                        detector=detector,
                        recognizer=recognizer,
                        threads=self.config.threads,
                        orient=self.config.orient,
                        dpi=self.config.dpi,
                        max_pixels=self.config.max_pixels,
                        max_pages=self.config.max_pages,
                    )
                    self._readers[key] = r
        return r

    # ------------------------------------------------------------------ pool

    def reserve(self) -> None:
        """Take a slot (running or waiting); 503 when all ``workers + queue`` slots are taken."""
        with self._slots_lock:
            if self._pending >= max(1, self.config.workers) + max(0, self.config.queue):
                raise ServiceError(503, "server busy: the inference queue is full, retry later")
            self._pending += 1

    def begin_upload(self) -> None:
        """Count a body being received; 503 when ``uploads`` are already being received."""
        with self._slots_lock:
            if self._uploading >= max(1, self.config.uploads):
                raise ServiceError(503, "server busy: too many uploads in progress, retry later")
            self._uploading += 1

    def end_upload(self) -> None:
        with self._slots_lock:
            self._uploading -= 1

    def release(self, *_: Any) -> None:
        with self._slots_lock:
            self._pending -= 1

    def submit(self, fn, *args) -> Future:
        """Run ``fn(*args)`` in the pool on a reserved slot; the slot is released when it finishes
        (or is cancelled before it started)."""

        def run():
            with self._slots_lock:
                self._running += 1
            try:
                return fn(*args)
            finally:
                with self._slots_lock:
                    self._running -= 1

        fut = self.pool.submit(run)
        fut.add_done_callback(self.release)
        return fut

    def stats(self) -> dict[str, int]:
        with self._slots_lock:
            return {
                "workers": max(1, self.config.workers),
                "queue": max(0, self.config.queue),
                "running": self._running,
                "waiting": max(0, self._pending - self._running),
                "uploading": self._uploading,
                "served": self.served,
            }

    # ------------------------------------------------------------------ one request

    def ocr(self, data: bytes, req: OCRRequest, deadline: float = math.inf) -> tuple[bytes, str]:
        """Read ``data`` and format the result; runs in a pool thread. Returns (body, media type). Past
        ``deadline`` (``time.monotonic()``) the work stops at the next page (504): a timed-out
        request gives its slot back instead of reading on."""
        from ..document import Document
        from ..export import MEDIA_TYPES, jsonl_record, render

        reader = self.reader(req.det, req.rec, req.mode)
        pages = []
        try:
            for page in reader.iter_pages(data, mode=req.mode, name=req.name, dpi=req.dpi, script=req.script):
                pages.append(page)
                if time.monotonic() > deadline:
                    raise ServiceError(504, f"request timed out after {len(pages)} page(s)")
        except InputError as e:
            raise ServiceError(input_error_status(e), e.problem, e.kind) from None
        doc = Document(pages, source=req.name, models=reader.model_names(req.mode))
        if req.fmt != "json":
            return render(doc, req.fmt, name=req.name), MEDIA_TYPES[req.fmt]
        if not req.include:
            return render(doc, "jsonl", name=req.name).rstrip(b"\n"), MEDIA_TYPES["json"]
        record = jsonl_record(doc, req.name)
        if "text" in req.include:
            record["text"] = doc.text()
        if "images" in req.include:
            for pd, page in zip(record["pages"], doc.pages, strict=True):
                pd["image"] = self._data_url(page.image)
        body = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return body, MEDIA_TYPES["json"]

    def _data_url(self, image) -> str | None:
        if image is None:
            return None
        from PIL import Image

        im = Image.fromarray(image)
        s = self.config.image_max_side / max(im.size)
        if s < 1.0:
            im = im.resize((max(1, round(im.width * s)), max(1, round(im.height * s))), Image.BILINEAR)
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=85)
        return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


# ---------------------------------------------------------------------- FastAPI app


_OCR_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary", "description": "image or PDF"},
                    "format": {"type": "string", "enum": list(FORMATS)},
                    "dpi": {"type": "integer"},
                    "det": {"type": "string"},
                    "rec": {"type": "string"},
                    "mode": {"type": "string", "enum": ["page", "line"]},
                    "include": {"type": "string"},
                    "script": {"type": "string", "enum": list(SCRIPTS)},
                },
            }
        },
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        "image/*": {"schema": {"type": "string", "format": "binary"}},
        "application/pdf": {"schema": {"type": "string", "format": "binary"}},
    },
}

_ERR = {"content": {"application/json": {"example": {"error": "..."}}}}
_OCR_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "format=json: the `shizi read -f jsonl` record "
        '`{"file", "pages": [{"index", "width", "height", "rotation", "blocks": [{"kind", "direction"}], '
        '"lines": [{"text", "confidence", "polygon", "block"}]}]}`; text / hOCR / searchable PDF otherwise',
        "content": {
            "application/json": {},
            "text/plain": {},
            "application/xhtml+xml": {},
            "application/xml": {},
            "application/pdf": {},
        },
    },
    413: {"description": "upload, pixels or pages over a limit", **_ERR},
    415: {"description": "unsupported file type", **_ERR},
    422: {"description": "broken, truncated, encrypted or empty input; bad option", **_ERR},
    503: {"description": "busy (inference queue full) or no model installed", **_ERR},
    504: {"description": "request timeout", **_ERR},
}


def create_app(config: ServiceConfig | None = None, **overrides: Any):
    """Build the FastAPI app. ``create_app(det=..., rec=..., workers=...)`` or with a ServiceConfig.

    Raises :class:`shizi.ModelError` when ``preload`` is on and the default models cannot be loaded.
    """
    from .. import __version__

    if config is None:
        cfg = ServiceConfig(**overrides)
    else:
        cfg = dataclasses.replace(config, **overrides) if overrides else config
    try:
        service = OCRService(cfg)
    except ServiceError as e:
        raise ModelError(e.message) from None

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        service.close()

    try:  # API docs (/docs, /redoc) from bundled Swagger UI / ReDoc files: they work offline
        from fastapi_offline import FastAPIOffline as _FastAPI
    except ImportError:  # plain FastAPI: the docs pages load Swagger UI from a CDN
        _FastAPI = FastAPI

    app = _FastAPI(
        lifespan=lifespan,
        title="shizi OCR",
        version=__version__,
        description="识字 shizi — offline OCR for Chinese and English. Upload an image or PDF to "
        "`POST /v1/ocr`; the web page is at `/`.",
    )
    app.state.shizi = service

    _add_error_handlers(app)

    @app.get("/healthz", summary="liveness and pool state")
    async def healthz() -> dict:
        return {
            "status": "ok",
            "version": __version__,
            "uptime_s": round(time.time() - service.started, 1),
            "models": {
                "detector": service.default_name("detection"),
                "recognizer": service.default_name("recognition"),
            },
            **service.stats(),
        }

    @app.get("/v1/models", summary="installed models and the service limits")
    async def models() -> dict:
        c = service.config
        return {
            **service.catalogue(),
            "defaults": {
                "detector": service.default_name("detection"),
                "recognizer": service.default_name("recognition"),
            },
            "formats": list(FORMATS),
            "limits": {
                "max_upload_bytes": c.max_upload_bytes,
                "max_pixels": c.max_pixels,
                "max_pages": c.max_pages,
                "dpi": c.dpi,
                "min_dpi": c.min_dpi,
                "max_dpi": c.max_dpi,
                "timeout_s": c.timeout,
            },
        }

    @app.post(
        "/v1/ocr",
        summary="read an image or PDF",
        openapi_extra={"requestBody": _OCR_BODY},
        responses=_OCR_RESPONSES,
        response_class=Response,
    )
    async def ocr(
        request: Request,
        format: str | None = Query(None, description="json (default) | text | hocr | alto | pdf"),
        dpi: int | None = Query(None, description=f"PDF rasterisation dpi (default {cfg.dpi})"),
        det: str | None = Query(None, description="detector name (GET /v1/models)"),
        rec: str | None = Query(None, description="recognizer name (GET /v1/models)"),
        mode: str | None = Query(None, description="page (default) or line: the input is one text line"),
        include: str | None = Query(
            None, description="json only: comma list of extras, 'text' and/or 'images' (page JPEGs)"
        ),
        filename: str | None = Query(None, description="name used in the result for a raw-body upload"),
        script: str | None = Query(None, description="as-printed (default) | simplified | traditional"),
    ) -> Response:
        t0 = time.monotonic()
        body = await receive_body(service, request)
        service.reserve()  # 503 when all workers and queue places are taken
        reserved = True
        try:
            data, name, form = await split_upload(request, body, filename, service.config.max_upload_bytes)
            del body
            query = {"format": format, "dpi": dpi, "det": det, "rec": rec, "mode": mode, "include": include,
                     "script": script}
            req = parse_options(service.config, name, query, form)
            if not data:
                raise ServiceError(422, "empty upload (0 bytes)", "empty")
            reserved = False  # from here the pool releases the slot when the job ends
            return await run_ocr(service, data, req, t0)
        finally:
            if reserved:
                service.release()

    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    @app.get("/", include_in_schema=False)
    async def index():
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8")

    @app.get("/sample.png", include_in_schema=False)
    async def sample():
        if not SAMPLE.is_file():
            raise ServiceError(404, "the bundled sample is not installed")
        return FileResponse(SAMPLE, media_type="image/png")

    return app


def _add_error_handlers(app) -> None:
    """Every error is answered as JSON ``{"error": message}`` (plus ``kind`` where known)."""

    def err(status: int, message: str, headers: dict | None = None, kind: str | None = None) -> JSONResponse:
        body = {"error": message} if kind is None else {"error": message, "kind": kind}
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError):
        return err(exc.status, exc.message, kind=exc.kind)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        parts = []
        for e in exc.errors():
            loc = ".".join(str(x) for x in e.get("loc", ()) if x not in ("query", "body"))
            parts.append(f"{loc}: {e.get('msg', 'invalid')}" if loc else str(e.get("msg", "invalid")))
        return err(422, "invalid request: " + "; ".join(parts))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        return err(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s", request.url.path)
        return err(500, f"internal error: {type(exc).__name__}: {exc}")


def app_from_env():
    """App factory for server processes started by uvicorn (``shizi serve --processes N``): the
    ServiceConfig is the JSON in ``SHIZI_SERVICE_CONFIG``."""
    import os

    return create_app(ServiceConfig(**json.loads(os.environ.get("SHIZI_SERVICE_CONFIG", "{}"))))


_FRAMING = 16 * 1024  # multipart boundaries, headers and option fields on top of the file


async def receive_body(service: OCRService, request) -> bytes:
    """The whole request body, before any worker slot is taken (slow uploads cannot starve the pool):
    at most ``max_upload_bytes`` (+ multipart framing; 413), within ``upload_timeout`` (408), one of at
    most ``uploads`` bodies being received at once (503)."""
    c = service.config
    length = request.headers.get("content-length")
    if length is not None:
        try:
            if int(length) > c.max_upload_bytes + _FRAMING:
                raise ServiceError(413, _too_large(c.max_upload_bytes), "too_large")
        except ValueError:
            raise ServiceError(400, "bad Content-Length header") from None
    service.begin_upload()
    try:
        multipart = request.headers.get("content-type", "").lower().startswith("multipart/")
        cap = c.max_upload_bytes + (_FRAMING if multipart else 0)
        wait = min(c.upload_timeout, c.timeout)
        return await asyncio.wait_for(_read_body(request, cap, c.max_upload_bytes), wait)
    except asyncio.TimeoutError:
        raise ServiceError(408, f"upload not received within {wait:g} s") from None
    finally:
        service.end_upload()


async def split_upload(request, body: bytes, filename: str | None, limit: int) -> tuple[bytes, str, dict]:
    """(file bytes, name, form fields) of a received body: a multipart form's ``file`` field, else the
    raw body (any other type: ``curl --data-binary`` sends x-www-form-urlencoded)."""
    if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        data, name, form = await _parse_multipart(request, body)
        if len(data) > limit:
            raise ServiceError(413, _too_large(limit), "too_large")
        return data, name, form
    return body, filename or "upload", {}


def parse_options(c: ServiceConfig, name: str, query: dict[str, Any], form: dict[str, str]) -> OCRRequest:
    """Validate a request's options (a query parameter wins over the form field of the same name)."""

    def opt(key: str) -> Any:
        v = query.get(key)
        return v if v is not None else form.get(key)

    fmt = (opt("format") or "json").lower()
    fmt = "json" if fmt == "jsonl" else fmt
    if fmt not in FORMATS:
        raise ServiceError(422, f"unknown format {fmt!r} (one of: {', '.join(FORMATS)})")
    dpi_s = opt("dpi")
    try:
        dpi = int(dpi_s) if dpi_s not in (None, "") else c.dpi
    except ValueError:
        raise ServiceError(422, f"dpi must be an integer, got {dpi_s!r}") from None
    if not c.min_dpi <= dpi <= c.max_dpi:
        raise ServiceError(422, f"dpi must be between {c.min_dpi} and {c.max_dpi}, got {dpi}")
    mode = (opt("mode") or "page").lower()
    if mode not in ("page", "line"):
        raise ServiceError(422, f"mode must be 'page' or 'line', got {mode!r}")
    include = tuple(x.strip().lower() for x in (opt("include") or "").split(",") if x.strip())
    bad = [x for x in include if x not in INCLUDES]
    if bad:
        raise ServiceError(422, f"unknown include {bad[0]!r} (one of: {', '.join(INCLUDES)})")
    script = (opt("script") or "as-printed").lower()
    try:
        converter(script)  # an unknown script, or no OpenCC installed, is said here
    except (ValueError, ShiziError) as e:
        raise ServiceError(422, str(e)) from None
    return OCRRequest(name=name, fmt=fmt, dpi=dpi, det=opt("det") or None, rec=opt("rec") or None,
                      mode=mode, include=include, script=script)


async def run_ocr(service: OCRService, data: bytes, req: OCRRequest, t0: float):
    """Run the OCR of a request on its reserved slot and answer it; past the request's ``timeout``
    (counted from ``t0``) 504, and the work stops at its next page."""
    c = service.config
    fut = service.submit(service.ocr, data, req, t0 + c.timeout)
    left = max(0.01, c.timeout - (time.monotonic() - t0))
    try:
        out, media = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(fut)), left)
    except asyncio.TimeoutError:
        fut.cancel()  # not started: never runs; running: stops after its current page (deadline)
        raise ServiceError(504, f"request timed out after {c.timeout:g} s") from None
    except ServiceError:
        raise
    except MemoryError:
        raise ServiceError(503, "out of memory while reading this input") from None
    except Exception as e:  # noqa: BLE001 - never let one input take the server down
        log.exception("OCR failed for %s", req.name)
        raise ServiceError(500, f"internal error: {type(e).__name__}: {e}") from None
    service.served += 1
    headers = {"X-Shizi-Time-Ms": f"{(time.monotonic() - t0) * 1000:.0f}"}
    if req.fmt == "pdf":
        stem = Path(req.name).stem or "shizi"
        headers["Content-Disposition"] = f'attachment; filename="{_ascii_name(stem)}.pdf"'
    return Response(out, media_type=media, headers=headers)


def _too_large(limit: int) -> str:
    return f"upload too large (limit {limit / 1e6:g} MB)"


def _ascii_name(s: str) -> str:
    keep = "".join(ch if (ch.isascii() and (ch.isalnum() or ch in "-_.")) else "_" for ch in s)
    return keep[:100] or "shizi"


async def _read_body(request, cap: int, limit: int) -> bytes:
    """The request body, at most ``cap`` bytes (``limit`` plus room for multipart framing) → else 413."""
    from starlette.requests import ClientDisconnect

    chunks: list[bytes] = []
    n = 0
    try:
        async for chunk in request.stream():
            n += len(chunk)
            if n > cap:
                raise ServiceError(413, _too_large(limit), "too_large")
            chunks.append(chunk)
    except ClientDisconnect:
        raise ServiceError(400, "client disconnected during upload") from None
    return b"".join(chunks)


async def _parse_multipart(request, body: bytes) -> tuple[bytes, str, dict[str, str]]:
    """Parse a buffered multipart body: (file bytes, file name, other fields)."""
    from starlette.datastructures import UploadFile
    from starlette.exceptions import HTTPException
    from starlette.formparsers import MultiPartException
    from starlette.requests import Request

    sent = False

    async def receive():
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {k: v for k, v in request.scope.items() if k != "app"}
    req = Request(scope, receive)
    try:
        form = await req.form(max_files=2, max_fields=20, max_part_size=64 * 1024)
    except (MultiPartException, HTTPException) as e:
        raise ServiceError(422, f"broken multipart upload ({getattr(e, 'message', None) or e})") from None
    try:
        f = form.get("file")
        if not isinstance(f, UploadFile):
            raise ServiceError(422, "multipart upload has no file field named 'file'")
        data = await f.read()
        name = f.filename or "upload"
        opts = {k: v for k, v in form.items() if isinstance(v, str)}
    finally:
        await form.close()
    return data, name, opts


__all__ = ["ServiceConfig", "OCRService", "OCRRequest", "ServiceError", "create_app", "app_from_env",
           "input_error_status", "parse_options"]
