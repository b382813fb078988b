"""Model registry: shipped model folders under ``shizi/models/<name>/``.

Each folder holds ``model.onnx`` (or the file named by ``config["onnx"]``; a language model names its
``config["file"]``), ``config.json``, ``charset.txt`` (recognizers) and ``MODEL.md`` (see
docs/ARCHITECTURE.md). Extra model folders can be made visible with the ``SHIZI_MODEL_PATH``
environment variable (directories separated by ``os.pathsep``, each holding model folders). Loading
checks the sha256 of the model file.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ModelError

PACKAGE_DIR = Path(__file__).resolve().parent
TASKS = ("detection", "recognition", "orientation", "lm")

_sha_cache: dict[tuple[str, int, int], str] = {}
_sha_lock = threading.Lock()


@dataclass
class ModelInfo:
    """A model folder and its ``config.json``."""

    name: str
    task: str
    arch: str
    path: Path
    config: dict[str, Any] = field(repr=False)

    @property
    def onnx_path(self) -> Path:
        return self.path / self.config.get("onnx", "model.onnx")

    @property
    def file_path(self) -> Path:
        """The model's one data file: its ONNX graph, or a language model's ``config["file"]``."""
        return self.path / self.config["file"] if "file" in self.config else self.onnx_path

    @property
    def default(self) -> bool:
        return bool(self.config.get("default", False))

    @property
    def metrics(self) -> dict[str, Any]:
        return dict(self.config.get("metrics", {}))

    @property
    def size_bytes(self) -> int:
        try:
            return self.file_path.stat().st_size
        except OSError:
            return 0

    def verify(self) -> None:
        """Check that the model file exists and matches ``config["sha256"]``; raise ModelError if not."""
        p = self.file_path
        if not p.is_file():
            raise ModelError(f"model {self.name!r}: model file {p} is missing")
        want = str(self.config.get("sha256", "")).lower()
        if not want:
            raise ModelError(f"model {self.name!r}: config.json has no sha256 of {p.name}")
        got = sha256_file(p)
        if got != want:
            raise ModelError(
                f"model {self.name!r}: sha256 mismatch for {p} (expected {want}, got {got}); "
                "the file is damaged or was replaced — reinstall the model"
            )

    def charset(self) -> list[str]:
        """The recognizer's symbols: class index k >= 1 is ``charset()[k-1]``, 0 is the CTC blank."""
        p = self.path / self.config.get("charset", "charset.txt")
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as e:
            raise ModelError(f"model {self.name!r}: cannot read charset {p}: {e}") from None
        symbols = text.split("\n")
        if symbols and symbols[-1] == "":
            symbols.pop()
        return [s[:-1] if s.endswith("\r") and len(s) > 1 else s for s in symbols]

    def session(self, threads: int = 1):
        """Create an onnxruntime InferenceSession (CPU) with ``threads`` intra-op threads."""
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, int(threads))
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.log_severity_level = 3
        try:
            return ort.InferenceSession(
                str(self.onnx_path), sess_options=opts, providers=["CPUExecutionProvider"]
            )
        except Exception as e:  # noqa: BLE001
            raise ModelError(f"model {self.name!r}: onnxruntime cannot load {self.onnx_path}: {e}") from None


def sha256_file(path: str | Path) -> str:
    p = Path(path)
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    with _sha_lock:
        if key in _sha_cache:
            return _sha_cache[key]
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    digest = h.hexdigest()
    with _sha_lock:
        _sha_cache[key] = digest
    return digest


def model_dirs() -> list[Path]:
    """Directories searched for model folders: the package's, then ``SHIZI_MODEL_PATH`` entries."""
    dirs = [PACKAGE_DIR]
    for d in os.environ.get("SHIZI_MODEL_PATH", "").split(os.pathsep):
        if d.strip():
            dirs.append(Path(d).expanduser())
    return dirs


def read_model_folder(path: str | Path) -> ModelInfo:
    """Read ``config.json`` of one model folder (no sha256 check)."""
    path = Path(path)
    cfg_path = path / "config.json"
    try:
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{path} is not a model folder (no config.json)") from None
    except (OSError, ValueError) as e:
        raise ModelError(f"{cfg_path}: unreadable config ({e})") from None
    task = cfg.get("task")
    if task not in TASKS:
        raise ModelError(f"{cfg_path}: 'task' must be one of {TASKS}, got {task!r}")
    return ModelInfo(
        name=str(cfg.get("name", path.name)), task=task, arch=str(cfg.get("arch", "")), path=path, config=cfg
    )


def list_models(task: str | None = None) -> list[ModelInfo]:
    """All installed models (optionally of one task), sorted by task then name."""
    found: dict[str, ModelInfo] = {}
    for d in model_dirs():
        if not d.is_dir():
            continue
        for sub in sorted(d.iterdir()):
            if not (sub / "config.json").is_file():
                continue
            try:
                info = read_model_folder(sub)
            except ModelError:
                continue
            if task is None or info.task == task:
                found.setdefault(info.name, info)
    return sorted(found.values(), key=lambda m: (m.task, m.name))


def default_model(task: str) -> ModelInfo:
    """The model of ``task`` whose config has ``"default": true`` (else the only one installed)."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}")
    models = list_models(task)
    if not models:
        raise ModelError(
            f"no {task} model installed (expected a folder under {PACKAGE_DIR} with "
            f'config.json "task": "{task}")'
        )
    defaults = [m for m in models if m.default]
    if defaults:
        return defaults[0]
    if len(models) == 1:
        return models[0]
    raise ModelError(
        f"several {task} models installed and none is marked default: " + ", ".join(m.name for m in models)
    )


def find_model(name_or_path: str | Path, task: str | None = None) -> ModelInfo:
    """Look up a model by registry name, or read a model folder given by path. No sha256 check."""
    p = Path(name_or_path)
    if (p / "config.json").is_file():
        info = read_model_folder(p)
    else:
        matches = [
            m for m in list_models() if m.name == str(name_or_path) or m.path.name == str(name_or_path)
        ]
        if not matches:
            names = ", ".join(m.name for m in list_models(task)) or "none"
            raise ModelError(f"unknown model {str(name_or_path)!r} (installed: {names})")
        info = matches[0]
    if task is not None and info.task != task:
        raise ModelError(f"model {info.name!r} is a {info.task} model, not {task}")
    return info


def load_model(name_or_path: str | Path | None = None, task: str | None = None) -> ModelInfo:
    """Find a model (by name, folder path, or the default of ``task`` when None) and verify its sha256."""
    if name_or_path is None:
        if task is None:
            raise ValueError("give a model name/path or a task")
        info = default_model(task)
    else:
        info = find_model(name_or_path, task)
    info.verify()
    return info


__all__ = [
    "ModelInfo",
    "list_models",
    "default_model",
    "find_model",
    "load_model",
    "sha256_file",
    "model_dirs",
    "read_model_folder",
]
