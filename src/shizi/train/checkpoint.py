"""Small, exact-resume checkpoints: model weights in one file, optimizer/scheduler/RNG state in another.

Both are written to a temporary name and renamed, so a run stopped at any moment leaves the last
complete checkpoint intact.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch


def atomic_save(obj: Any, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def save(out: Path, model: torch.nn.Module, meta: dict, optimizer, scheduler, step: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    atomic_save({**meta, "step": step, "model": state}, out / "weights.pt")
    atomic_save({"step": step, "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                 "torch_rng": torch.get_rng_state()}, out / "optim.pt")


def log_record(out: Path, rec: dict) -> None:
    """Print one JSON record and append it to the run's ``log.jsonl``."""
    line = json.dumps(rec)
    print(line, flush=True)
    with open(out / "log.jsonl", "a", encoding="utf-8") as f:
        f.write(line + "\n")


def load_weights(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=False)


def resume(out: Path, model: torch.nn.Module, optimizer, scheduler) -> int:
    """Load both files from ``out``; returns the step to continue from."""
    w = load_weights(out / "weights.pt")
    model.load_state_dict(w["model"])
    o = torch.load(out / "optim.pt", map_location="cpu", weights_only=False)
    if o["step"] != w["step"]:
        raise RuntimeError(f"{out}: weights (step {w['step']}) and optimizer (step {o['step']}) disagree")
    optimizer.load_state_dict(o["optimizer"])
    scheduler.load_state_dict(o["scheduler"])
    torch.set_rng_state(o["torch_rng"])
    return int(w["step"])


def warmup_cosine(optimizer, warmup: int, total: int, floor: float = 0.05):
    import math

    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        p = min(1.0, (step - warmup) / max(1, total - warmup))
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * p))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, f)
