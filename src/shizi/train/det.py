"""Detector training loop (DB or CTPN) on synthetic page crops: exact resume, periodic checkpoints,
optional export of an ONNX model folder at the end.

- DB loss: balanced BCE (hard negatives 3:1) on the shrunk probability map + 10 x L1 on the threshold
  map inside the dilated text + dice on the differentiable binary map (DB paper).
- CTPN loss: anchor text/non-text BCE (positives and hard negatives 1:3) + smooth-L1 vertical
  regression (dy, dh) on positives + smooth-L1 side refinement on anchors near line ends.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from shizi.synth.corpus import corpus_summary
from shizi.synth.fonts import font_summary
from shizi.train import checkpoint
from shizi.train.det_data import MEAN, STD, DetPages, collate
from shizi.train.nets.detection import CTPN_ANCHORS, build


def add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--arch", help="db | ctpn (default: --init's, else db)")
    p.add_argument("--out", type=Path, required=True, help="run folder (weights.pt, optim.pt, log.jsonl)")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--size", type=int, default=384, help="training crop side (multiple of 32)")
    p.add_argument("--crops-per-page", type=int, default=4)
    p.add_argument("--max-side", type=int, default=1280, help="runtime long-side cap the pages are scaled to")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--device", default="cpu", help="cpu | cuda")
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    p.add_argument("--workers", type=int, default=1, help="rendering processes")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--until", type=int, help="stop after this step (the schedule still spans --steps)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out exactly")
    p.add_argument("--init", type=Path, help="start from these weights: a model folder such as "
                   "src/shizi/models/det_db, its model.onnx, or a weights.pt")
    p.add_argument("--ckpt-every", type=int, default=50)
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--export", type=Path, help="after training, export ONNX model folder here")


def db_loss(out, gt, mask, th, th_mask, neg_ratio: float = 3.0):
    prob, thresh, binary = (o[:, 0].float() for o in out)
    pos = (gt * mask) > 0.5
    neg = ((1 - gt) * mask) > 0.5
    bce = F.binary_cross_entropy(prob.clamp(1e-6, 1 - 1e-6), gt, reduction="none")
    n_pos = int(pos.sum())
    n_neg = min(int(neg.sum()), max(int(n_pos * neg_ratio), 256))
    neg_loss = bce[neg]
    if n_neg < neg_loss.numel():
        neg_loss = neg_loss.topk(n_neg).values
    l_prob = (bce[pos].sum() + neg_loss.sum()) / (n_pos + n_neg + 1e-6)
    l_th = (torch.abs(thresh - th) * th_mask).sum() / (th_mask.sum() + 1e-6)
    inter = (binary * gt * mask).sum()
    l_bin = 1 - 2 * inter / ((binary * mask).sum() + (gt * mask).sum() + 1e-6)
    return l_prob + 10 * l_th + l_bin, {"prob": l_prob.item(), "thresh": l_th.item(), "binary": l_bin.item()}


def ctpn_loss(out, label, regr, regr_mask, side, side_mask, neg_ratio: float = 3.0):
    score, p_regr, p_side = out
    score = score.float()
    pos = label == 1
    neg = label == 0
    bce = F.binary_cross_entropy_with_logits(score, (label == 1).float(), reduction="none")
    n_pos = int(pos.sum())
    n_neg = min(int(neg.sum()), max(int(n_pos * neg_ratio), 128))
    neg_loss = bce[neg]
    if n_neg < neg_loss.numel():
        neg_loss = neg_loss.topk(n_neg).values
    l_cls = (bce[pos].sum() + neg_loss.sum()) / (n_pos + n_neg + 1e-6)
    rm = regr_mask > 0
    l_reg = F.smooth_l1_loss(p_regr.float()[rm], regr[rm], reduction="sum") / (rm.sum() + 1e-6)
    sm = side_mask > 0
    l_side = F.smooth_l1_loss(p_side.float()[sm], side[sm], reduction="sum") / (sm.sum() + 1e-6)
    return l_cls + l_reg + 0.5 * l_side, {"cls": l_cls.item(), "regr": l_reg.item(), "side": l_side.item()}


def train(args) -> Path:
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = args.device
    info = None
    if args.init and not args.resume:
        from shizi.train.from_onnx import read_init

        info = read_init(args.init)
        if args.arch and info.get("arch") and args.arch != info["arch"]:
            raise ValueError(f"--arch {args.arch} but --init {args.init} is a {info['arch']}")
        args.arch = args.arch or info.get("arch")
    args.arch = args.arch or "db"
    model = build(args.arch)
    if info is not None:
        from shizi.train.from_onnx import apply_init

        calib = None
        if "model" not in info:  # BatchNorm statistics of a few synthetic crops (own seed)
            pages = DetPages(args.seed + 20_000, args.arch, args.size, args.crops_per_page, args.max_side)
            calib = [collate([pages[i + k] for k in range(args.batch)])[0] for i in (0, args.batch)]
        apply_init(model, info, calibration=calib)
    model = model.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = checkpoint.warmup_cosine(opt, args.warmup, args.steps)
    step = checkpoint.resume(args.out, model, opt, sched) if args.resume else 0
    meta = {"arch": args.arch, "mean": list(MEAN), "std": list(STD), "max_side": args.max_side,
            "size": args.size, "seed": args.seed}
    if args.arch.startswith("ctpn"):
        meta["anchor_heights"] = list(CTPN_ANCHORS)
        meta["stride"] = 16
    data = DetPages(args.seed, args.arch, args.size, args.crops_per_page, args.max_side)
    print(font_summary(), flush=True)
    print(corpus_summary(), flush=True)
    end = (args.until or args.steps) * args.batch
    loader = DataLoader(data, batch_size=args.batch, sampler=range(step * args.batch, end),
                        num_workers=args.workers, collate_fn=collate, persistent_workers=args.workers > 0,
                        prefetch_factor=2 if args.workers else None)
    loss_fn = ctpn_loss if args.arch.startswith("ctpn") else db_loss
    args.out.mkdir(parents=True, exist_ok=True)
    t0, step0, losses, parts = time.time(), step, [], []
    model.train()
    for batch in loader:
        x, *targets = (b.to(device, non_blocking=True) for b in batch)
        out = model(x)
        loss, part = loss_fn(out, *targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        sched.step()
        step += 1
        losses.append(loss.item())
        parts.append(part)
        if step % args.ckpt_every == 0 or step in (args.steps, args.until):
            checkpoint.save(args.out, model, meta, opt, sched, step)
        if step % args.log_every == 0 or step == args.steps:
            rate = (step - step0) * args.batch / (time.time() - t0)
            last = losses[-args.log_every:]
            rec = {"step": step, "samples": step * args.batch, "loss": float(np.mean(last)),
                   **{k: float(np.mean([p[k] for p in parts[-args.log_every:]])) for k in part},
                   "lr": sched.get_last_lr()[0], "samples_per_s": round(rate, 2), "time": time.time()}
            checkpoint.log_record(args.out, rec)
    if args.export:
        from shizi.train.export import export_detector

        export_detector(args.out / "weights.pt", args.export)
    return args.out / "weights.pt"
