"""Recognizer training loop: synthetic lines (or a user's crops), CTC, exact resume, ONNX export."""

from __future__ import annotations

import argparse
import json
import random
import time
import unicodedata
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from shizi.synth.corpus import corpus_summary
from shizi.synth.fonts import font_summary
from shizi.train import checkpoint
from shizi.train.nets.recognition import build, remap_classes
from shizi.train.rec_data import Encoder, LabeledLines, PageLines, SynthCodes, SynthLines, collate


class Mixed(Dataset):
    """A user's crops mixed with synthetic lines (``ratio`` of them) so fine-tuning does not forget."""

    def __init__(self, user: Dataset, synth: Dataset, ratio: float, seed: int):
        self.user, self.synth, self.ratio, self.seed = user, synth, ratio, seed

    def __len__(self) -> int:
        return 10**9

    def __getitem__(self, i: int):
        r = random.Random(self.seed * 7919 + i)
        if r.random() < self.ratio:
            return self.synth[i]
        return self.user[r.randrange(len(self.user))]


class WithPageLines(Dataset):
    """``synth`` with the first ``per_batch`` samples of every ``batch`` taken from ``pages`` instead
    (consecutive page-line samples, so each rendered page serves several)."""

    def __init__(self, synth: Dataset, pages: Dataset, per_batch: int, batch: int):
        self.synth, self.pages, self.per_batch, self.batch = synth, pages, per_batch, batch

    def __len__(self) -> int:
        return 10**9

    def __getitem__(self, i: int):
        b, k = divmod(i, self.batch)
        return self.pages[b * self.per_batch + k] if k < self.per_batch else self.synth[i]


def cer_of(pairs: list[tuple[str, str]]) -> float:
    from shizi.metrics import cer

    return cer(pairs).cer


def add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--arch", help="crnn_lite | crnn_vgg | crnn_se (default: --init's, else crnn_lite)")
    p.add_argument("--out", type=Path, required=True, help="run folder (weights.pt, optim.pt, log.jsonl)")
    p.add_argument("--steps", type=int, default=100_000)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup", type=int, default=1000)
    p.add_argument("--device", default="cpu", help="cpu | cuda")
    p.add_argument("--threads", type=int, default=2, help="torch threads")
    p.add_argument("--workers", type=int, default=1, help="rendering processes")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--max-chars", type=int, default=24)
    p.add_argument("--aspect", type=float, nargs=2, default=[0.9, 1.1], metavar=("LO", "HI"),
                   help="range of the random width stretch of synthetic lines")
    p.add_argument("--synth", choices=["lines", "captcha", "plate"], default="lines",
                   help="synthetic data: text lines (shizi.synth.lines), text captchas (shizi.synth.captcha: "
                        "digits and capitals) or Chinese licence plates (shizi.synth.plates); the charset "
                        "defaults to the symbols of the kind")
    p.add_argument("--page-lines", type=float, default=0.0, metavar="SHARE",
                   help="share of each batch cut from synthetic pages (photos, signs, receipts, vertical "
                        "columns; shizi.train.rec_data.PageLines) instead of rendered as single lines")
    p.add_argument("--bucket", type=int, default=4,
                   help="draw this many batches at once and group them by width (less padding)")
    p.add_argument("--until", type=int, help="stop after this step (the schedule still spans --steps)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out exactly")
    p.add_argument("--init", type=Path,
                   help="start from these weights (fine-tuning): a model folder such as "
                        "src/shizi/models/rec_crnn_lite, its model.onnx, or a weights.pt")
    p.add_argument("--data", type=Path, help="a user's labeled crops (.jsonl or .tsv) to train on")
    p.add_argument("--synth-ratio", type=float, default=0.3, help="synthetic share when --data is given")
    p.add_argument("--charset", type=Path,
                   help="charset.txt (default: --init's, else shizi.synth.charset.build_charset()); with "
                        "--init, characters new to the model get fresh output rows (remap_classes)")
    p.add_argument("--new-chars", type=float, default=0.0, metavar="SHARE",
                   help="share of synthetic lines made of the characters that --charset adds to --init's "
                        "(each beside common words) so that the new output rows learn")
    p.add_argument("--val-every", type=int, default=1000)
    p.add_argument("--ckpt-every", type=int, default=200)
    p.add_argument("--val-size", type=int, default=300)
    p.add_argument("--eval-labels", type=Path, help="a real line set (labels.jsonl) to report CER on")
    p.add_argument("--export", type=Path, help="after training, export ONNX model folder here")


def _init_info(args) -> dict | None:
    """What ``--init`` names (``shizi.train.from_onnx.read_init``), read once per run."""
    if not args.init:
        return None
    cached = getattr(args, "_init_cache", None)
    if cached is None or cached[0] != args.init:
        from shizi.train.from_onnx import read_init

        args._init_cache = (args.init, read_init(args.init))
    return args._init_cache[1]


def _charsets(args) -> tuple[list[str], list[str]]:
    """(the charset --init was trained on, the charset to train): the same unless --charset differs."""
    from shizi.synth.charset import build_charset, load_charset

    info = _init_info(args)
    given = load_charset(args.charset) if args.charset else None
    kind = getattr(args, "synth", "lines")
    if given is None and kind != "lines":
        from shizi.synth import captcha, plates

        given = list({"captcha": captcha.CHARSET, "plate": plates.CHARSET}[kind])
    if info is not None:
        if "charset" not in info:
            raise ValueError(f"--init {args.init}: no charset.txt next to the model")
        return info["charset"], given or info["charset"]
    cs = given or build_charset()
    return cs, cs


def _arch(args) -> str:
    """--arch, else the architecture --init was trained as, else crnn_lite."""
    info = _init_info(args)
    known = info.get("arch") if info else None
    if args.arch and known and args.arch != known:
        raise ValueError(f"--arch {args.arch} but --init {args.init} is a {known}")
    return args.arch or known or "crnn_lite"


def _synth(args, seed: int, **kw) -> Dataset:
    """The synthetic stream ``seed`` of ``--synth``."""
    if args.synth != "lines":
        return SynthCodes(seed, kind=args.synth, aspect=args.aspect)
    return SynthLines(seed, max_chars=args.max_chars, aspect=args.aspect, **kw)


def _calibration_batches(args, n: int = 64) -> list[torch.Tensor]:
    """A few synthetic batches (their own seed) to measure BatchNorm statistics on after an ONNX
    init (``shizi.train.from_onnx.calibrate_batchnorm``)."""
    synth = _synth(args, args.seed + 20_000)
    samples = sorted((synth[i] for i in range(n)), key=lambda s: s[0].shape[1])
    return [collate(samples[i : i + 32])[0] for i in range(0, n, 32)]


@torch.no_grad()
def evaluate(model, enc: Encoder, samples: list[tuple[np.ndarray, str]], device: str, stride: int) -> float:
    model.eval()
    pairs = []
    for i in range(0, len(samples), 32):
        chunk = samples[i : i + 32]
        x, widths, texts = collate(chunk)
        logits = model(x.to(device)).float()
        ids = logits.argmax(-1).cpu().numpy()
        for j, t in enumerate(texts):
            n = int(np.ceil(widths[j].item() / stride))
            pairs.append((t, enc.decode_greedy(ids[j, :n].tolist())))
    model.train()
    return cer_of(pairs)


def _width_buckets(loader, batch: int):
    """Split each drawn group of samples into batches of similar width, in a fixed order: sorting
    the group by width cuts the padding (and so the compute) about in half on synthetic lines."""
    for group in loader:
        order = sorted(range(len(group)), key=lambda k: (group[k][0].shape[1], k))
        for i in range(0, len(order), batch):
            yield collate([group[k] for k in order[i : i + batch]])


def _real_set(path: Path) -> list[tuple[np.ndarray, str]]:
    import cv2

    from shizi.train.rec_data import resize_to_height

    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        img = cv2.imread(str(path.parent / d["image"]), cv2.IMREAD_GRAYSCALE)
        out.append((resize_to_height(img), d["text"]))
    return out


def train(args) -> Path:
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = args.device
    init_charset, charset = _charsets(args)
    enc = Encoder(charset)
    args.arch = _arch(args)
    fresh_init = bool(args.init) and not args.resume
    model = build(args.arch, len(init_charset if fresh_init else charset) + 1)
    if fresh_init:
        from shizi.train.from_onnx import apply_init

        info = _init_info(args)
        apply_init(model, info, calibration=None if "model" in info else _calibration_batches(args))
        if init_charset != charset:
            remap_classes(model, init_charset, charset)
            print(f"output layer {len(init_charset)} -> {len(charset)} characters", flush=True)
    model = model.to(device, memory_format=torch.channels_last)
    stride = model.width_stride
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = checkpoint.warmup_cosine(opt, args.warmup, args.steps)
    step = checkpoint.resume(args.out, model, opt, sched) if args.resume else 0
    meta = {"arch": args.arch, "charset": charset, "width_stride": stride, "height": 32}
    if args.synth != "lines":
        meta["runtime"] = SynthCodes.RUNTIME

    known = set(init_charset)
    new_chars = [c for c in charset if c not in known and "CJK UNIFIED" in unicodedata.name(c, "")]
    if args.new_chars and not new_chars:
        raise ValueError("--new-chars: --charset adds no Han character to --init's")
    synth = _synth(args, args.seed, **({"focus": new_chars, "focus_share": args.new_chars}
                                       if args.new_chars else {}))
    print(font_summary(), flush=True)
    print(corpus_summary(), flush=True)
    data: Dataset = synth
    if args.page_lines > 0:
        pages = PageLines(args.seed, max_chars=max(args.max_chars, 32), aspect=args.aspect)
        data = synth = WithPageLines(synth, pages, round(args.page_lines * args.batch), args.batch)
    if args.data:
        user = LabeledLines(args.data, augment=True, seed=args.seed, aspect=args.aspect)
        data = Mixed(user, synth, args.synth_ratio, args.seed)
    if step % args.bucket or args.ckpt_every % args.bucket:
        raise ValueError(f"--bucket {args.bucket} must divide --ckpt-every and the resumed step ({step})")
    start = step * args.batch
    loader = DataLoader(data, batch_size=args.batch * args.bucket,
                        sampler=range(start, min(args.until or args.steps, args.steps) * args.batch),
                        num_workers=args.workers, collate_fn=list,
                        persistent_workers=args.workers > 0, prefetch_factor=2 if args.workers else None)
    val = _synth(args, args.seed + 10_000) if args.synth != "lines" else SynthLines(args.seed + 10_000,
                                                                                     max_chars=args.max_chars)
    val_set = [val[i] for i in range(args.val_size)]
    real_set = _real_set(args.eval_labels) if args.eval_labels else None
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    use_bf16 = device.startswith("cuda")
    args.out.mkdir(parents=True, exist_ok=True)
    t0, seen0, losses = time.time(), step * args.batch, []
    model.train()
    for x, widths, texts in _width_buckets(loader, args.batch):
        targets = [enc.encode(t) for t in texts]
        tl = torch.tensor([len(t) for t in targets])
        flat = torch.tensor([k for t in targets for k in t], dtype=torch.long)
        x = x.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_bf16):
            logits = model(x)
        logp = logits.float().log_softmax(2).permute(1, 0, 2)
        il = torch.clamp((widths + stride - 1) // stride, max=logp.shape[0])
        loss = ctc(logp, flat.to(device), il.to(device), tl.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        sched.step()
        step += 1
        losses.append(loss.item())
        if step % args.ckpt_every == 0 or step in (args.steps, args.until):
            checkpoint.save(args.out, model, meta, opt, sched, step)
        if step % 50 == 0:
            rate = (step * args.batch - seen0) / (time.time() - t0)
            print(f"step {step} loss {np.mean(losses[-50:]):.3f} lr {sched.get_last_lr()[0]:.2e} "
                  f"{rate:.1f} samples/s", flush=True)
        if step % args.val_every == 0 or step in (args.steps, args.until):
            rec = {"step": step, "samples": step * args.batch, "loss": float(np.mean(losses[-200:])),
                   "time": time.time()}
            if val_set:
                rec["val_cer"] = evaluate(model, enc, val_set, device, stride)
            if real_set:
                rec["real_cer"] = evaluate(model, enc, real_set, device, stride)
            checkpoint.log_record(args.out, rec)
    if args.export:
        from shizi.train.export import export_recognizer

        export_recognizer(args.out / "weights.pt", args.export)
    return args.out / "weights.pt"
