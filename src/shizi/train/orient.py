"""Page-orientation training (``python -m shizi.train orient``): synthetic pages, each cut into patches as
the runtime cuts them (:func:`shizi.orientation.page_patches`), every patch shown in all four turns.

Pages are drawn from ``shizi.synth.pages`` (documents, receipts, screens and vertical-rl pages; not
scenes, whose lines are turned up to 60 degrees on their own), scaled by a random factor around the
runtime's ``side`` so that text of every size is seen. Validation turns whole pages of a stream with
its own seed by each of the four angles and scores the page decision (:class:`PageOrienter`'s rule).
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from shizi.config import OrientConfig
from shizi.orientation import decide, page_patches, patch_tensor
from shizi.synth.fonts import font_summary
from shizi.synth.pages import render_page
from shizi.train import checkpoint
from shizi.train.nets.orientation import OrientNet

KINDS = ("doc", "doc", "doc", "receipt", "screen", "vertical")  # drawn uniformly: half documents


def add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, required=True, help="run folder (weights.pt, optim.pt, log.jsonl)")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--pages", type=int, default=2, help="pages per step (each gives patches x 4 samples)")
    p.add_argument("--patches", type=int, default=12, help="patches cut from each training page")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    p.add_argument("--workers", type=int, default=1, help="rendering processes")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--val-seed", type=int, default=9001)
    p.add_argument("--val-pages", type=int, default=60)
    p.add_argument("--val-every", type=int, default=500)
    p.add_argument("--ckpt-every", type=int, default=100)
    p.add_argument("--log-every", type=int, default=20)
    p.add_argument("--until", type=int, help="stop after this step (the schedule still spans --steps)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out exactly")
    p.add_argument("--export", type=Path, help="after training, export an ONNX model folder here")


def synth_page(seed: int, index: int) -> tuple[np.ndarray, float]:
    """Page ``index`` of stream ``seed``: an upright RGB page of one of KINDS, and a random scale."""
    rng = random.Random(seed * 7_919 + index)
    page = render_page(seed, index, kind=rng.choice(KINDS))
    return page.image, rng.uniform(0.75, 1.35)


class OrientPatches(Dataset):
    """Item i: patches of synthetic page i in all four turns: ([4K, 1, P, P] float32, [4K] labels)."""

    def __init__(self, seed: int, config: OrientConfig, n: int = 10**9):
        self.seed, self.config, self.n = seed, config, n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        image, scale = synth_page(self.seed, i)
        cfg = self.config.replace(side=max(self.config.patch, round(self.config.side * scale)))
        patches = page_patches(image, cfg)
        x = np.concatenate([np.rot90(patches, k, axes=(1, 2)) for k in range(4)])
        # np.rot90 by k turns counter-clockwise: turning back clockwise by k * 90 makes it upright
        y = np.repeat(np.arange(4), len(patches))
        return torch.from_numpy(patch_tensor(np.ascontiguousarray(x))), torch.from_numpy(y)


def _collate(items):
    return torch.cat([x for x, _ in items]), torch.cat([y for _, y in items])


def validation_set(seed: int, pages: int, config: OrientConfig) -> list[tuple[np.ndarray, int]]:
    """(patch tensor, label) for every page of stream ``seed`` turned by each of the four angles."""
    out = []
    for i in range(pages):
        image, _ = synth_page(seed, i)
        for k in range(4):
            out.append((patch_tensor(page_patches(np.rot90(image, k), config)), k))
    return out


@torch.no_grad()
def evaluate(model, val, min_confidence: float) -> dict:
    """Page accuracy with the runtime's rule (:func:`shizi.orientation.decide`)."""
    model.eval()
    probs = np.stack([model(torch.from_numpy(x)).softmax(-1).mean(0).numpy() for x, _ in val])
    labels = np.array([k for _, k in val])
    pred = decide(probs, min_confidence)
    model.train()
    wrong = int(((pred != labels) & (pred != 0)).sum())
    return {"page_acc": float((pred == labels).mean()), "wrong_turns": wrong, "val_pages": len(val)}


def train(args) -> Path:
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    cfg = dataclasses.replace(OrientConfig(), patches=args.patches)
    model = OrientNet()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = checkpoint.warmup_cosine(opt, args.warmup, args.steps)
    step = checkpoint.resume(args.out, model, opt, sched) if args.resume else 0
    meta = {"arch": "orient_cnn", "patch": cfg.patch, "side": cfg.side, "seed": args.seed}
    print(font_summary(), flush=True)
    data = OrientPatches(args.seed, cfg)
    sampler = range(step * args.pages, 10**9)  # page i is a pure function of (seed, i): exact resume
    loader = DataLoader(data, batch_size=args.pages, sampler=sampler, num_workers=args.workers,
                        collate_fn=_collate, persistent_workers=args.workers > 0,
                        prefetch_factor=4 if args.workers else None)
    val = validation_set(args.val_seed, args.val_pages, OrientConfig())
    model.train()
    t0, seen, losses = time.time(), 0, []
    until = min(args.until or args.steps, args.steps)
    for x, y in loader:
        if step >= until:
            break
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        step += 1
        seen += len(y)
        losses.append(loss.item())
        if step % args.log_every == 0:
            checkpoint.log_record(args.out, {"step": step, "loss": round(float(np.mean(losses)), 4),
                                             "samples_per_s": round(seen / (time.time() - t0), 1),
                                             "lr": round(sched.get_last_lr()[0], 6)})
            losses = []
        if step % args.ckpt_every == 0 or step == until:
            checkpoint.save(args.out, model, meta, opt, sched, step)
        if step % args.val_every == 0 or step == until:
            rule = OrientConfig().min_confidence
            checkpoint.log_record(args.out, {"step": step, **evaluate(model, val, rule)})
    if args.export and step >= args.steps:
        export_orienter(args.out / "weights.pt", args.export)
    return args.out / "weights.pt"


def export_orienter(weights: Path, out_dir: Path, name: str | None = None) -> Path:
    """Write model.onnx (``image`` [K,1,P,P] → ``probs`` [K,4]) and config.json; checked against torch."""
    from shizi.train.export import check_onnx, sha256, write_config

    w = checkpoint.load_weights(Path(weights))
    net = OrientNet()
    net.load_state_dict(w["model"])
    wrapped = torch.nn.Sequential(net, torch.nn.Softmax(-1)).eval()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / "model.onnx"
    p = w["patch"]
    torch.onnx.export(wrapped, (torch.randn(2, 1, p, p),), str(onnx_path), input_names=["image"],
                      output_names=["probs"], dynamic_axes={"image": {0: "k"}, "probs": {0: "k"}},
                      opset_version=17, dynamo=False)
    check_onnx(wrapped, onnx_path, tol=1e-4, inputs=[torch.randn(3, 1, p, p), torch.randn(8, 1, p, p)])
    config = {"name": name or out_dir.name, "task": "orientation", "arch": w["arch"], "onnx": "model.onnx",
              "sha256": sha256(onnx_path), "patch": p, "side": w["side"], "trained_steps": w["step"]}
    write_config(out_dir, config, from_weights=set(config) - {"name"})
    return onnx_path

