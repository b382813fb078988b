"""Export trained networks to ONNX model folders (see docs/ARCHITECTURE.md) and check them against torch."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch

from shizi.train import checkpoint


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _Softmax(torch.nn.Module):
    def __init__(self, net: torch.nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).softmax(-1)


def export_recognizer(weights: Path, out_dir: Path, name: str | None = None,
                      int8: bool = True) -> Path:
    """Write model.onnx (input ``image`` [N,1,32,W] -> ``probs`` [N,T,C]), charset.txt and config.json.

    The float32 graph is checked against torch; with ``int8`` its MatMul and LSTM weights are then
    quantized (:func:`quantize_int8`)."""
    from shizi.synth.charset import save_charset
    from shizi.train.nets.recognition import build
    from shizi.train.rec_data import HEIGHT, MEAN, STD

    w = checkpoint.load_weights(Path(weights))
    charset = w["charset"]
    net = build(w["arch"], len(charset) + 1)
    net.load_state_dict(w["model"])
    net.eval()
    wrapped = _Softmax(net).eval()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / "model.onnx"
    x = torch.rand(2, 1, 32, 256) * 2 - 1
    torch.onnx.export(wrapped, (x,), str(onnx_path), input_names=["image"], output_names=["probs"],
                      dynamic_axes={"image": {0: "n", 3: "w"}, "probs": {0: "n", 1: "t"}},
                      opset_version=17, dynamo=False)
    check_onnx(wrapped, onnx_path, tol=1e-4)
    if int8:
        quantize_int8(wrapped, onnx_path)
    save_charset(charset, out_dir / "charset.txt")
    config = {
        "name": name or out_dir.name, "task": "recognition", "arch": w["arch"], "onnx": "model.onnx",
        "sha256": sha256(onnx_path), "height": HEIGHT, "width_stride": w["width_stride"],
        "charset": "charset.txt", "mean": MEAN, "std": STD, "trained_steps": w["step"],
        "dynamic_quant": int8,  # shizi.config.RecConfig.dynamic_quant: crops run one at a time
        **w.get("runtime", {}),  # settings the training recipe reads with (a captcha's width_scale ...)
    }
    write_config(out_dir, config, from_weights=set(config) - {"name"})
    return onnx_path


def write_config(out_dir: Path, config: dict, from_weights: set[str]) -> None:
    """Write ``out_dir/config.json``. Re-exporting into a model folder refreshes only the keys that
    come from the weights (``from_weights``: file, hash, network shape, steps); what was filled in
    or tuned by hand there (name, default flag, metrics, language model, post-processing) stays."""
    path = out_dir / "config.json"
    if path.exists():
        kept = json.loads(path.read_text())
        config = {**kept, **{k: v for k, v in config.items() if k in from_weights or k not in kept}}
    path.write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n")


def quantize_int8(net: torch.nn.Module, onnx_path: Path, min_agreement: float = 0.95) -> float:
    """Replace ``onnx_path`` by its dynamically quantized form: int8 MatMul and LSTM weights (per
    channel), activations quantized per batch at run time.

    The 9,670-way output layer dominates a CRNN's inference; in int8 a line takes about 0.75x the
    float32 time (``bench/quantization.py``), and the file is a third of the float32 one. Near-ties
    between classes can flip, so instead of a tolerance on probabilities the check is that the
    per-step argmax (what greedy CTC decodes) agrees with torch's on at least ``min_agreement`` of
    the steps of a random batch. Returns that agreement."""
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quant_pre_process, quantize_dynamic

    fp32 = onnx_path.with_suffix(".fp32.onnx")
    onnx_path.replace(fp32)
    try:  # shape inference and graph clean-up first, as onnxruntime's quantization guide asks
        quant_pre_process(str(fp32), str(onnx_path))
        quantize_dynamic(str(onnx_path), str(onnx_path), op_types_to_quantize=["MatMul", "LSTM"],
                         weight_type=QuantType.QInt8, per_channel=True)
    finally:
        fp32.unlink()
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    g = torch.Generator().manual_seed(0)
    x = torch.rand(4, 1, 32, 320, generator=g) * 2 - 1
    with torch.no_grad():
        ref = net(x).argmax(-1).numpy()
    got = sess.run(None, {"image": x.numpy()})[0].argmax(-1)
    agreement = float((ref == got).mean())
    if agreement < min_agreement:
        raise RuntimeError(f"int8 model agrees with torch on {agreement:.3f} of steps (< {min_agreement})")
    return agreement


def check_onnx(net: torch.nn.Module, onnx_path: Path, tol: float = 1e-4,
               inputs: list[torch.Tensor] | None = None) -> float:
    """Run a batch of two widths through torch and onnxruntime; raise if they differ by more than ``tol``.

    ``inputs`` replaces the recognizer-shaped default batches (detectors pass [N,3,H,W] images); every
    output of the network is compared."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    worst = 0.0
    if inputs is None:
        inputs = [torch.rand(3, 1, 32, w) * 2 - 1 for w in (96, 320)]
    for x in inputs:
        with torch.no_grad():
            ref = net(x)
        refs = [r.numpy() for r in (ref if isinstance(ref, (tuple, list)) else (ref,))]
        got = sess.run(None, {sess.get_inputs()[0].name: x.numpy()})
        for r, g in zip(refs, got, strict=False):
            worst = max(worst, float(np.abs(r - g).max()))
    if worst > tol:
        raise RuntimeError(f"ONNX output differs from torch by {worst:.2e} (> {tol})")
    return worst


def export_detector(weights: Path, out_dir: Path, name: str | None = None) -> Path:
    """Write model.onnx and config.json for a DB (``image`` -> ``prob``) or CTPN (``image`` -> ``score``,
    ``regr``, ``side``) detector (docs/ARCHITECTURE.md) and check the ONNX file against torch.

    The config holds what comes from the network and its training (normalisation, input size, DB's
    shrink ratio, CTPN's anchors and stride); post-processing takes shizi.config's defaults unless the
    model folder's config.json already sets it."""
    from shizi.train.det_data import SHRINK
    from shizi.train.nets.detection import build

    w = checkpoint.load_weights(Path(weights))
    arch = w["arch"]
    net = build(arch)
    net.load_state_dict(w["model"])
    net.eval()
    net.export = True
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / "model.onnx"
    ctpn = arch.startswith("ctpn")
    outputs = ["score", "regr", "side"] if ctpn else ["prob"]
    dyn = {"image": {0: "n", 2: "h", 3: "w"}}
    for o in outputs:
        dyn[o] = {0: "n", 1: "gh", 2: "gw"} if ctpn else {0: "n", 2: "h", 3: "w"}
    x = torch.randn(1, 3, 320, 480)
    torch.onnx.export(net, (x,), str(onnx_path), input_names=["image"], output_names=outputs,
                      dynamic_axes=dyn, opset_version=17, dynamo=False)
    check_onnx(net, onnx_path, tol=1e-3, inputs=[torch.randn(1, 3, 256, 352), torch.randn(1, 3, 448, 160)])
    config = {
        "name": name or out_dir.name, "task": "detection", "arch": arch, "onnx": "model.onnx",
        "sha256": sha256(onnx_path), "mean": w["mean"], "std": w["std"], "max_side": w["max_side"],
        "trained_steps": w["step"],
    }
    if ctpn:
        config.update(anchor_heights=w["anchor_heights"], stride=w["stride"])
    else:
        config["shrink_ratio"] = SHRINK  # the targets' shrink, which unclip inverts
    network = {"onnx", "sha256", "trained_steps", "arch", "mean", "std", "anchor_heights", "stride",
               "shrink_ratio"}
    write_config(out_dir, config, from_weights=network)  # max_side and post-processing may be tuned
    return onnx_path
