"""Start training from a shipped ONNX model: map the graph's weights back onto a freshly built torch net.

A model folder (``src/shizi/models/rec_crnn_lite``) holds the same tensors as the weights it was
exported from, so no ``.pt`` needs to be kept next to it (``--init`` takes the folder). What export
changed, and how it is undone here:

- Names. Initializers that kept their torch name (``net.fc.bias``, ``lateral.0.weight``) are matched by
  name. Folded or quantized ones are called ``onnx::Conv_444``; their node's scope name
  (``/net/cnn/cnn.3/cnn.3.0/Conv``) names the module, and where scopes are missing the nodes are
  matched against the order in which the net's modules run (forward hooks). Every shape is checked.
- Conv + BatchNorm, folded into one Conv in eval mode: the conv gets the folded weight, the BatchNorm
  becomes the identity plus the folded bias (running mean 0, running variance 1 - eps, weight 1), so
  eval outputs equal the ONNX model's. :func:`calibrate_batchnorm` then gives it running statistics
  measured on real inputs (keeping eval outputs), so that train-mode batch statistics start out
  where the exported network's were instead of re-normalizing every channel to unit scale.
- LSTM: ONNX W/R/B hold gates in the order i, o, f, c (torch: i, f, g, o) and B = [Wb, Rb].
- int8 (onnxruntime ``quantize_dynamic``): DynamicQuantizeLSTM / MatMulInteger weights are
  dequantized, ``(q - zero_point) * scale`` per channel. That is the int8 model's own function, not
  the float32 weights exactly (a step of at most half a quantum per weight).

A detector exported in ``export`` mode lacks its training-only heads (DB's threshold head); those
stay as built and are listed in the report's ``missing``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

_CONV = (nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d)
_BN = (nn.BatchNorm1d, nn.BatchNorm2d)
_PARAM_MODULES = (*_CONV, *_BN, nn.Linear, nn.LSTM)
_ONNX_PARAM_OPS = {"Conv", "ConvTranspose", "BatchNormalization", "LSTM", "DynamicQuantizeLSTM",
                   "MatMul", "MatMulInteger", "Gemm", "DynamicQuantizeMatMul"}
_LINEAR_OPS = {"MatMul", "MatMulInteger", "Gemm", "DynamicQuantizeMatMul"}
_LSTM_OPS = {"LSTM", "DynamicQuantizeLSTM"}


@dataclass
class LoadReport:
    onnx: str
    matched_by: str = ""  # "scope names" or "run order"
    filled: list[str] = field(default_factory=list)  # state_dict keys set from the graph
    by_name: list[str] = field(default_factory=list)  # ... whose initializer kept the torch name
    dequantized: list[str] = field(default_factory=list)  # ... from int8 weights
    folded_bn: list[str] = field(default_factory=list)  # BatchNorm modules rebuilt from a folded Conv
    missing: list[str] = field(default_factory=list)  # state_dict keys the graph lacks (left as built)

    def summary(self) -> str:
        s = (f"init from {self.onnx}: {len(self.filled)} tensors matched by {self.matched_by} "
             f"({len(self.by_name)} by initializer name), {len(self.folded_bn)} BatchNorms unfolded, "
             f"{len(self.dequantized)} dequantized from int8")
        if self.missing:
            s += f"; not in the graph, left as built: {', '.join(self.missing)}"
        return s


# ---------------------------------------------------------------------------------------------------
# the ONNX side


class _Graph:
    def __init__(self, path: Path):
        import onnx
        from onnx import numpy_helper

        self.model = onnx.load(str(path))
        g = self.model.graph
        self.tensors = {t.name: t for t in g.initializer}
        for n in g.node:  # weights may also sit in Constant nodes
            if n.op_type == "Constant" and len(n.output) == 1:
                for a in n.attribute:
                    if a.name == "value":
                        self.tensors[n.output[0]] = a.t
        self._to_array = numpy_helper.to_array
        self.nodes = list(g.node)
        self.consumers: dict[str, list] = defaultdict(list)
        self.producer: dict[str, object] = {}
        for n in self.nodes:
            for i in n.input:
                self.consumers[i].append(n)
            for o in n.output:
                self.producer[o] = n
        self.param_nodes = [n for n in self.nodes if n.op_type in _ONNX_PARAM_OPS
                            and len(n.input) > 1 and n.input[1] in self.tensors]

    def has(self, name: str) -> bool:
        return bool(name) and name in self.tensors

    def array(self, name: str) -> np.ndarray:
        return self._to_array(self.tensors[name])

    def input_shape(self) -> list[int | None]:
        inp = [i for i in self.model.graph.input if i.name not in self.tensors][0]
        return [d.dim_value or None for d in inp.type.tensor_type.shape.dim]

    def quant_scale(self, qname: str, node) -> str:
        """Initializer holding the scale of quantized weight ``qname`` (onnxruntime names it
        ``<weight>_scale``; otherwise found as the initializer multiplied into the output)."""
        if qname.endswith("_quantized") and self.has(qname[: -len("_quantized")] + "_scale"):
            return qname[: -len("_quantized")] + "_scale"
        for t in self._downstream(node.output[0], 3):
            for m in self.consumers.get(t, []):
                if m.op_type != "Mul":
                    continue
                for other in m.input:
                    p = self.producer.get(other)
                    if p is not None and p.op_type == "Mul":
                        for s in p.input:
                            if self.has(s):
                                return s
        raise ValueError(f"no scale found for quantized weight {qname}")

    def _downstream(self, t: str, depth: int) -> list[str]:
        out, frontier = [t], [t]
        for _ in range(depth):
            frontier = [o for x in frontier for m in self.consumers.get(x, [])
                        if m.op_type in ("Cast", "Mul") for o in m.output]
            out += frontier
        return out

    def linear_bias(self, node, n_out: int) -> str | None:
        """The initializer added to a MatMul's output (through the Cast/Mul of a quantized one)."""
        for t in self._downstream(node.output[0], 3):
            for m in self.consumers.get(t, []):
                if m.op_type == "Add":
                    for other in m.input:
                        if other != t and self.has(other) and self.array(other).size == n_out:
                            return other
        return None


def _dequant(q: np.ndarray, scale: np.ndarray, zp: np.ndarray | None) -> np.ndarray:
    x = q.astype(np.float32)
    if zp is not None:
        x = x - zp.astype(np.float32)
    return x * scale.astype(np.float32)


def _per_dir(a: np.ndarray, d: int) -> np.ndarray:
    """Quantization parameter of direction ``d`` of an LSTM, broadcastable over [in, 4H]."""
    return a.reshape(d, 1, -1) if a.ndim >= 1 and a.shape[0] == d else a.reshape(1, 1, -1)


def _iofc_to_ifgo(a: np.ndarray) -> np.ndarray:
    i, o, f, c = np.split(a, 4, axis=0)
    return np.concatenate([i, f, c, o], axis=0)


def _lstm_layer(g: _Graph, node) -> dict[str, np.ndarray]:
    """W [D,4H,I], R [D,4H,H], B [D,8H] in ONNX layout (gates i, o, f, c) of one LSTM node."""
    h = next(a.i for a in node.attribute if a.name == "hidden_size")
    if node.op_type == "LSTM":
        w, r = g.array(node.input[1]), g.array(node.input[2])
    else:  # DynamicQuantizeLSTM: W [D,I,4H], R [D,H,4H] int8, scale/zero point [D,4H] or [D]
        d = g.array(node.input[1]).shape[0]

        def deq(k: int) -> np.ndarray:
            q = g.array(node.input[k])
            s, z = g.array(node.input[8 + 2 * (k - 1)]), g.array(node.input[9 + 2 * (k - 1)])
            return _dequant(q, _per_dir(s, d), _per_dir(z, d)).transpose(0, 2, 1)

        w, r = deq(1), deq(2)
    b = g.array(node.input[3]) if len(node.input) > 3 and g.has(node.input[3]) else \
        np.zeros((w.shape[0], 8 * h), np.float32)
    return {"W": w, "R": r, "B": b}


# ---------------------------------------------------------------------------------------------------
# the torch side


def _scope_module(node_name: str) -> str | None:
    """'/net/cnn/cnn.3/cnn.3.0/Conv' -> 'net.cnn.3.0' (each scope repeats its parent's tail)."""
    comps = [c for c in node_name.split("/") if c]
    if len(comps) < 2:
        return None
    path: list[str] = []
    for comp in comps[:-1]:
        parts = comp.split(".")
        for i in range(len(path) + 1):
            if path[i:] == parts[: len(path) - i]:
                path = path[:i] + parts
                break
    return ".".join(path)


def _run_order(net: nn.Module, x: torch.Tensor):
    """Names of the parameter modules in the order they run on ``x``, and for each BatchNorm the
    conv whose output it normalizes directly (a pair the exporter folds)."""
    mods = dict(net.named_modules())
    names = {m: n for n, m in mods.items()}
    order: list[str] = []
    outputs: dict[str, torch.Tensor] = {}
    producer_of_bn: dict[str, str] = {}
    hooks = []

    def hook(mod, inputs, output):
        name = names[mod]
        if name in outputs:
            return
        if isinstance(mod, _BN):
            for cname, out in outputs.items():
                if out is inputs[0] and isinstance(mods[cname], _CONV):
                    producer_of_bn[name] = cname
        outputs[name] = output
        order.append(name)

    for m in net.modules():
        if isinstance(m, _PARAM_MODULES):
            hooks.append(m.register_forward_hook(hook))
    was_training, export = net.training, getattr(net, "export", None)
    try:
        net.eval()
        if export is not None:
            net.export = True  # the graph was traced in export mode (no training-only heads)
        with torch.no_grad():
            net(x)
    finally:
        for h in hooks:
            h.remove()
        net.train(was_training)
        if export is not None:
            net.export = export
    return order, producer_of_bn


def _example_input(g: _Graph) -> torch.Tensor:
    shape = g.input_shape()
    dims = [1 if i == 0 else (d or 128) for i, d in enumerate(shape)]
    return torch.rand(*dims) * 2 - 1


def _match_by_scope(g: _Graph, modules: dict[str, nn.Module]):
    """{module name: [onnx nodes]} from the nodes' scope names, or None where they do not name
    every parameter node's module."""
    scopes = [_scope_module(n.name) for n in g.param_nodes]
    if not scopes or any(s is None for s in scopes):
        return None
    comps = scopes[0].split(".")
    best, best_hits = None, -1
    for k in range(len(comps)):
        prefix = ".".join(comps[:k]) + "." if k else ""
        hits = sum(s.startswith(prefix) and s[len(prefix):] in modules for s in scopes)
        if hits > best_hits:
            best, best_hits = prefix, hits
    if best_hits != len(scopes):
        return None
    mapping: dict[str, list] = defaultdict(list)
    for s, n in zip(scopes, g.param_nodes, strict=True):
        mapping[s[len(best):]].append(n)
    return dict(mapping)


def _match_by_order(g: _Graph, modules: dict[str, nn.Module], order: list[str],
                    producer_of_bn: dict[str, str]):
    nodes, j = g.param_nodes, 0
    mapping: dict[str, list] = {}
    for name in order:
        m = modules[name]
        nxt = nodes[j] if j < len(nodes) else None
        if isinstance(m, _BN):
            conv_nodes = mapping.get(producer_of_bn.get(name, ""), [])
            if nxt is not None and nxt.op_type == "BatchNormalization" and (
                    not conv_nodes or nxt.input[0] == conv_nodes[0].output[0]):
                mapping[name] = [nxt]
                j += 1
            elif not conv_nodes:
                raise ValueError(f"{name}: no BatchNormalization node in the graph at node {j}")
            continue
        take = m.num_layers if isinstance(m, nn.LSTM) else 1
        got = nodes[j : j + take]
        want = _LSTM_OPS if isinstance(m, nn.LSTM) else _LINEAR_OPS if isinstance(m, nn.Linear) else \
            {"ConvTranspose"} if isinstance(m, nn.ConvTranspose2d) else {"Conv"}
        if len(got) < take or any(n.op_type not in want for n in got):
            found = ", ".join(f"{n.op_type} {n.name}" for n in got) or "the end of the graph"
            raise ValueError(f"{name} ({type(m).__name__}) runs where the graph has {found}")
        mapping[name] = got
        j += take
    if j != len(nodes):
        raise ValueError(f"the graph has {len(nodes) - j} weighted nodes more than the net "
                         f"(first: {nodes[j].op_type} {nodes[j].name})")
    return mapping


# ---------------------------------------------------------------------------------------------------
# filling the net


class _Filler:
    def __init__(self, net: nn.Module, g: _Graph, report: LoadReport):
        self.state = net.state_dict()
        self.g, self.report = g, report

    def set(self, key: str, value: np.ndarray, source: str | None = None, quantized: bool = False):
        t = self.state[key]
        if tuple(value.shape) != tuple(t.shape):
            raise ValueError(f"{key}: the net has shape {tuple(t.shape)}, the graph's "
                             f"{source or 'tensor'} {tuple(value.shape)}")
        with torch.no_grad():
            t.copy_(torch.from_numpy(np.array(value, dtype=np.float32)))
        self.report.filled.append(key)
        if source is not None and (source == key or source.endswith("." + key)):
            self.report.by_name.append(key)
        if quantized:
            self.report.dequantized.append(key)

    def conv(self, name: str, m: nn.Module, node, bn_name: str | None, bn: nn.Module | None):
        g = self.g
        w_name = node.input[1]
        b_name = node.input[2] if len(node.input) > 2 and g.has(node.input[2]) else None
        self.set(f"{name}.weight", g.array(w_name), w_name)
        bias = g.array(b_name) if b_name else None
        if bn is not None:  # folded: conv keeps the weight, the BatchNorm the bias
            if m.bias is not None:
                self.set(f"{name}.bias", np.zeros(m.bias.shape, np.float32))
            c = bn.num_features
            self.set(f"{bn_name}.running_mean", np.zeros(c, np.float32))
            self.set(f"{bn_name}.running_var", np.full(c, 1.0 - bn.eps, np.float32))
            if bn.affine:
                self.set(f"{bn_name}.weight", np.ones(c, np.float32))
                self.set(f"{bn_name}.bias", bias if bias is not None else np.zeros(c, np.float32),
                         b_name)
            elif bias is not None and np.abs(bias).max() > 0:
                raise ValueError(f"{bn_name} has no affine bias to take the folded bias")
            self.report.folded_bn.append(bn_name)
        elif m.bias is not None:
            self.set(f"{name}.bias", bias if bias is not None else np.zeros(m.bias.shape, np.float32),
                     b_name)
        elif bias is not None and np.abs(bias).max() > 0:
            raise ValueError(f"{name} has no bias but the graph's conv {node.name} adds one")

    def batchnorm(self, name: str, m: nn.Module, node):
        g = self.g
        eps = next((a.f for a in node.attribute if a.name == "epsilon"), 1e-5)
        if abs(eps - m.eps) > 1e-9:
            raise ValueError(f"{name}: eps {m.eps} in the net, {eps} in the graph")
        for key, k in (("weight", 1), ("bias", 2), ("running_mean", 3), ("running_var", 4)):
            if key in ("weight", "bias") and not m.affine:
                continue
            self.set(f"{name}.{key}", g.array(node.input[k]), node.input[k])

    def linear(self, name: str, m: nn.Linear, node):
        g, op = self.g, node.op_type
        quantized = op in ("MatMulInteger", "DynamicQuantizeMatMul")
        b_src = None
        if op == "Gemm":
            attrs = {a.name: (a.i if a.type == 2 else a.f) for a in node.attribute}
            w = g.array(node.input[1]) * attrs.get("alpha", 1.0)
            w = w if attrs.get("transB", 0) else w.T
            if len(node.input) > 2 and g.has(node.input[2]):
                b_src = node.input[2]
                bias = g.array(b_src) * attrs.get("beta", 1.0)
            else:
                bias = None
        else:
            q = g.array(node.input[1])
            if op == "MatMul":
                w = q
            elif op == "MatMulInteger":
                zp = g.array(node.input[3]) if len(node.input) > 3 and g.has(node.input[3]) else None
                w = _dequant(q, g.array(g.quant_scale(node.input[1], node)), zp)
            else:  # DynamicQuantizeMatMul: A, B, b_scale, b_zero_point, bias
                zp = g.array(node.input[3]) if len(node.input) > 3 and g.has(node.input[3]) else None
                w = _dequant(q, g.array(node.input[2]), zp)
            w = w.T
            if op == "DynamicQuantizeMatMul" and len(node.input) > 4 and g.has(node.input[4]):
                b_src = node.input[4]
            else:
                b_src = g.linear_bias(node, m.out_features)
            bias = g.array(b_src) if b_src else None
        self.set(f"{name}.weight", w, node.input[1], quantized)
        if m.bias is not None:
            if bias is None:
                raise ValueError(f"{name}: no bias found after {node.op_type} {node.name}")
            self.set(f"{name}.bias", bias.reshape(-1), b_src)

    def lstm(self, name: str, m: nn.LSTM, nodes):
        if len(nodes) != m.num_layers:
            raise ValueError(f"{name}: {m.num_layers} layers in the net, "
                             f"{len(nodes)} LSTM nodes in the graph")
        dirs = 2 if m.bidirectional else 1
        for layer, node in enumerate(nodes):
            p = _lstm_layer(self.g, node)
            if p["W"].shape[0] != dirs:
                raise ValueError(f"{name}: {dirs} directions in the net, {p['W'].shape[0]} in {node.name}")
            h = m.hidden_size
            q = node.op_type == "DynamicQuantizeLSTM"
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                self.set(f"{name}.weight_ih{sfx}", _iofc_to_ifgo(p["W"][d]), node.input[1], q)
                self.set(f"{name}.weight_hh{sfx}", _iofc_to_ifgo(p["R"][d]), node.input[2], q)
                if m.bias:
                    self.set(f"{name}.bias_ih{sfx}", _iofc_to_ifgo(p["B"][d][: 4 * h]), node.input[3])
                    self.set(f"{name}.bias_hh{sfx}", _iofc_to_ifgo(p["B"][d][4 * h :]), node.input[3])


def load_onnx_into(net: nn.Module, onnx_path: str | Path, example: torch.Tensor | None = None) -> LoadReport:
    """Fill ``net`` (freshly built, same architecture) with the weights of the exported ``onnx_path``.

    Matches nodes to modules by scope name, else by run order (``example`` is the input the net is
    run on to see that order; by default a random one of the graph's input shape). Raises
    ``ValueError`` where a shape or an operator does not fit. Eval outputs then equal the ONNX
    model's; BatchNorms unfolded from a Conv are identities (see :func:`calibrate_batchnorm`)."""
    onnx_path = Path(onnx_path)
    g = _Graph(onnx_path)
    report = LoadReport(str(onnx_path))
    modules = dict(net.named_modules())
    device = next(net.parameters()).device
    x = (example if example is not None else _example_input(g)).to(device)
    order, producer_of_bn = _run_order(net, x)
    mapping = _match_by_scope(g, modules)
    report.matched_by = "scope names"
    if mapping is None:
        mapping = _match_by_order(g, modules, order, producer_of_bn)
        report.matched_by = "run order"
    idle = [n for n in mapping if n not in order]
    if idle:
        raise ValueError(f"{onnx_path} has weights for {', '.join(idle)}, which do not run in the net")
    fill = _Filler(net, g, report)
    folded = {bn: conv for bn, conv in producer_of_bn.items() if bn not in mapping and conv in mapping}
    bn_of_conv = {conv: bn for bn, conv in folded.items()}
    for name in order:
        m, nodes = modules[name], mapping.get(name)
        if not nodes:
            if isinstance(m, _BN) and name in folded:
                continue
            raise ValueError(f"{name} ({type(m).__name__}) runs in the net but has no node in {onnx_path}")
        if isinstance(m, _CONV):
            if len(nodes) != 1 or nodes[0].op_type not in ("Conv", "ConvTranspose"):
                raise ValueError(f"{name}: expected one Conv node, got {[n.op_type for n in nodes]}")
            bn = bn_of_conv.get(name)
            fill.conv(name, m, nodes[0], bn, modules[bn] if bn else None)
        elif isinstance(m, _BN):
            fill.batchnorm(name, m, nodes[0])
        elif isinstance(m, nn.Linear):
            fill.linear(name, m, nodes[0])
        elif isinstance(m, nn.LSTM):
            fill.lstm(name, m, nodes)
    # parameters outside those modules whose initializer kept its name
    for key in fill.state:
        if key in report.filled or key.endswith("num_batches_tracked"):
            continue
        src = next((n for n in g.tensors if n == key or n.endswith("." + key)), None)
        if src is not None and tuple(g.array(src).shape) == tuple(fill.state[key].shape):
            fill.set(key, g.array(src), src)
    report.missing = [k for k in fill.state
                      if k not in report.filled and not k.endswith("num_batches_tracked")]
    return report


@torch.no_grad()
def calibrate_batchnorm(net: nn.Module, batches, names: list[str] | None = None) -> None:
    """Give BatchNorms (``names``, default all) running statistics measured on ``batches`` while
    keeping each one's eval-mode function (weight and bias change to compensate).

    After :func:`load_onnx_into` the unfolded BatchNorms have mean 0 and variance 1 - eps, which
    is exact in eval mode but in train mode would divide each channel by its batch std (undoing the
    scale the folded conv carries). With measured statistics a train-mode step starts out computing
    about what the exported network computes."""
    modules = dict(net.named_modules())
    names = names if names is not None else [n for n, m in modules.items() if isinstance(m, _BN)]
    sums: dict[str, list] = {n: [0.0, 0.0, 0] for n in names}

    def make_hook(n):
        def hook(mod, inputs, output):
            x = inputs[0].detach().float()
            dims = [d for d in range(x.dim()) if d != 1]
            s = sums[n]
            s[0] = s[0] + x.sum(dims).double()
            s[1] = s[1] + (x * x).sum(dims).double()
            s[2] += x.numel() // x.shape[1]
        return hook

    hooks = [modules[n].register_forward_hook(make_hook(n)) for n in names]
    was_training = net.training
    net.eval()
    try:
        for x in batches:
            net(x)
    finally:
        for h in hooks:
            h.remove()
        net.train(was_training)
    for n in names:
        s, bn = sums[n], modules[n]
        if not s[2] or not bn.affine:  # without weight and bias the eval function cannot be kept
            continue
        mean = s[0] / s[2]
        var = (s[1] / s[2] - mean * mean).clamp(min=0)  # biased, as train mode normalizes with it
        a = bn.weight.double() / torch.sqrt(bn.running_var.double() + bn.eps)  # eval: y = a * x + c
        c = bn.bias.double() - bn.running_mean.double() * a
        bn.running_mean.copy_(mean)
        bn.running_var.copy_(var)
        bn.weight.copy_(a * torch.sqrt(var + bn.eps))
        bn.bias.copy_(c + a * mean)


# ---------------------------------------------------------------------------------------------------
# --init PATH


def onnx_and_config(path: str | Path) -> tuple[Path, dict]:
    """A model folder or its ``model.onnx`` -> (onnx file, the folder's config.json or {})."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    cfg_path = folder / "config.json"
    config = json.loads(cfg_path.read_text(encoding="utf-8")) if cfg_path.exists() else {}
    onnx_path = folder / config.get("onnx", "model.onnx") if path.is_dir() else path
    if not onnx_path.exists():
        raise FileNotFoundError(f"{onnx_path}: no ONNX model there")
    return onnx_path, config


def read_init(path: str | Path) -> dict:
    """What ``--init PATH`` starts from: a weights.pt (``shizi.train.checkpoint``), a model folder
    (``src/shizi/models/rec_crnn_lite``) or a ``.onnx`` file in one. Returns ``arch`` (None if
    unknown), ``charset`` (recognizers), ``width_stride`` and either ``model`` (a state dict) or
    ``onnx`` (the file to :func:`load_onnx_into`), plus ``config`` for a folder."""
    path = Path(path)
    if path.is_file() and path.suffix != ".onnx":
        from shizi.train import checkpoint

        w = checkpoint.load_weights(path)
        return {**w, "arch": w.get("arch"), "source": str(path)}
    onnx_path, config = onnx_and_config(path)
    info = {"arch": config.get("arch"), "onnx": onnx_path, "config": config, "source": str(path),
            "width_stride": config.get("width_stride"), "step": config.get("trained_steps", 0)}
    charset_file = onnx_path.parent / config.get("charset", "charset.txt")
    if config.get("task", "recognition") == "recognition" and charset_file.exists():
        from shizi.synth.charset import load_charset

        info["charset"] = load_charset(charset_file)
    return info


def apply_init(net: nn.Module, info: dict, calibration=None) -> LoadReport | None:
    """Load ``info`` (:func:`read_init`) into ``net``; for an ONNX source, ``calibration`` (an
    iterable of input batches) sets the unfolded BatchNorms' statistics. Prints what was done."""
    if "model" in info:
        net.load_state_dict(info["model"])
        return None
    report = load_onnx_into(net, info["onnx"])
    if calibration is not None and report.folded_bn:
        calibrate_batchnorm(net, calibration, report.folded_bn)
    print(report.summary(), flush=True)
    return report


def to_weights(path: str | Path) -> dict:
    """A model folder (or its .onnx) as a ``weights.pt``-style dict (``arch``, ``model``, ``step``,
    recognizers' ``charset``/``width_stride``/``height``, detectors' ``mean``/``std``/``max_side``...),
    which ``shizi.train.export`` can export again."""
    info = read_init(path)
    if "model" in info:
        return info
    config, arch = info["config"], info["arch"]
    if not arch:
        raise ValueError(f"{path}: no config.json with the architecture next to the model")
    if config.get("task") == "detection":
        from shizi.train.nets.detection import build as build_det

        net = build_det(arch)
        extra = {k: config[k] for k in ("mean", "std", "max_side", "anchor_heights", "stride") if k in config}
    else:
        from shizi.train.nets.recognition import build as build_rec

        net = build_rec(arch, len(info["charset"]) + 1)
        extra = {"charset": info["charset"], "width_stride": net.width_stride,
                 "height": config.get("height", 32)}
    load_onnx_into(net, info["onnx"])
    return {"arch": arch, "step": info["step"], **extra,
            "model": {k: v.detach().clone() for k, v in net.state_dict().items()}}
