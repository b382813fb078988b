"""Training can start from a shipped ONNX model folder (``shizi.train.from_onnx``): the exported graph's
weights go back into a fresh torch net, folded Conv+BatchNorm pairs, LSTM gate order and int8 weights
included, so that the net's eval outputs are the ONNX model's."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "src" / "shizi" / "models"
CHARSET = list("abcdefghijklmnopqrstuvwxyz0123456789中文字")  # 39 symbols + blank


def _scramble_batchnorms(net, seed: int = 0) -> None:
    """Non-trivial BatchNorm statistics and affine parameters, so that a wrong unfolding shows."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                c = m.num_features
                m.running_mean.copy_(torch.randn(c, generator=g) * 0.3)
                m.running_var.copy_(torch.rand(c, generator=g) * 1.5 + 0.3)
                m.weight.copy_(torch.randn(c, generator=g) * 0.4 + 1.0)
                m.bias.copy_(torch.randn(c, generator=g) * 0.2)


def _ort(path: Path, x: torch.Tensor) -> list[np.ndarray]:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, {"image": x.numpy()})


def _export_rec(tmp_path: Path, int8: bool):
    from shizi.train.export import export_recognizer
    from shizi.train.nets.recognition import build

    torch.manual_seed(0)
    net = build("crnn_lite", len(CHARSET) + 1)
    _scramble_batchnorms(net)
    with torch.no_grad():  # larger output weights: clear argmax margins for the int8 check
        net.fc.weight.mul_(4.0)
    net.eval()
    weights = tmp_path / "weights.pt"
    torch.save({"arch": "crnn_lite", "charset": CHARSET, "width_stride": 8, "height": 32, "step": 7,
                "model": net.state_dict()}, weights)
    folder = tmp_path / ("rec_int8" if int8 else "rec_fp32")
    export_recognizer(weights, folder, int8=int8)
    return net, folder


def _strip_node_names(src: Path, dst: Path) -> Path:
    import onnx

    m = onnx.load(str(src))
    for n in m.graph.node:
        n.name = ""
    onnx.save(m, str(dst))
    return dst


@pytest.mark.slow
def test_recognizer_fp32_roundtrip(tmp_path):
    from shizi.train.from_onnx import load_onnx_into, read_init
    from shizi.train.nets.recognition import build

    orig, folder = _export_rec(tmp_path, int8=False)
    info = read_init(folder)
    assert info["arch"] == "crnn_lite" and info["charset"] == CHARSET and info["width_stride"] == 8
    x = torch.rand(2, 1, 32, 160, generator=torch.Generator().manual_seed(1)) * 2 - 1
    ref = _ort(info["onnx"], x)[0]
    with torch.no_grad():
        want = orig(x).softmax(-1).numpy()
    # by scope names, then with the node names gone (by the order the modules run)
    for path, how in ((info["onnx"], "scope names"),
                      (_strip_node_names(info["onnx"], tmp_path / "anon.onnx"), "run order")):
        net = build("crnn_lite", len(CHARSET) + 1)
        rep = load_onnx_into(net, path)
        assert rep.matched_by == how
        assert not rep.missing and len(rep.folded_bn) == 13 and not rep.dequantized
        assert "fc.bias" in rep.by_name
        for k in ("rnn.weight_ih_l0", "rnn.weight_hh_l1_reverse", "rnn.bias_hh_l0", "fc.weight"):
            assert torch.equal(net.state_dict()[k], orig.state_dict()[k]), k
        net.eval()
        with torch.no_grad():
            got = net(x).softmax(-1).numpy()
        assert np.abs(got - ref).max() < 1e-4
        assert np.abs(got - want).max() < 1e-4


@pytest.mark.slow
def test_recognizer_int8_roundtrip_dequantizes(tmp_path):
    import onnx

    from shizi.train.from_onnx import load_onnx_into, read_init
    from shizi.train.nets.recognition import build

    orig, folder = _export_rec(tmp_path, int8=True)
    info = read_init(folder)
    ops = {n.op_type for n in onnx.load(str(info["onnx"])).graph.node}
    assert {"DynamicQuantizeLSTM", "MatMulInteger"} <= ops
    net = build("crnn_lite", len(CHARSET) + 1)
    rep = load_onnx_into(net, info["onnx"])
    assert not rep.missing and "fc.weight" in rep.dequantized and "rnn.weight_ih_l1" in rep.dequantized
    sd, od = net.state_dict(), orig.state_dict()
    for k in ("rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.weight_ih_l1_reverse", "rnn.weight_hh_l1_reverse",
              "fc.weight"):
        err = (sd[k] - od[k]).abs().max() / od[k].abs().max()
        assert err < 0.01, (k, float(err))  # 8-bit steps; a gate permutation would be ~1
    for k in ("rnn.bias_ih_l0", "rnn.bias_hh_l1_reverse", "fc.bias"):
        assert torch.equal(sd[k], od[k]), k
    x = torch.rand(3, 1, 32, 320, generator=torch.Generator().manual_seed(2)) * 2 - 1
    ref = _ort(info["onnx"], x)[0]
    net.eval()
    with torch.no_grad():
        got = net(x).softmax(-1).numpy()
    assert (got.argmax(-1) == ref.argmax(-1)).mean() >= 0.95
    assert np.abs(got - ref).max() < 0.05  # int8 activations at run time; float weights here


@pytest.mark.slow
def test_calibrated_batchnorms_keep_eval_and_match_train_mode(tmp_path):
    from shizi.train.from_onnx import calibrate_batchnorm, load_onnx_into, read_init
    from shizi.train.nets.recognition import build

    _, folder = _export_rec(tmp_path, int8=False)
    info = read_init(folder)
    net = build("crnn_lite", len(CHARSET) + 1)
    rep = load_onnx_into(net, info["onnx"])
    x = torch.rand(4, 1, 32, 192, generator=torch.Generator().manual_seed(3)) * 2 - 1
    net.eval()
    with torch.no_grad():
        before = net(x)
    calibrate_batchnorm(net, [x], rep.folded_bn)
    bn = net.cnn[1]
    assert not torch.allclose(bn.running_var, torch.full_like(bn.running_var, 1 - bn.eps))
    with torch.no_grad():
        after = net(x)
        train_mode = copy.deepcopy(net).train()(x)
    assert (after - before).abs().max() < 1e-3
    # on the batch it was measured on, train mode (batch statistics) computes what eval mode does
    assert (train_mode - after).abs().max() < 1e-2 * after.abs().max()


@pytest.mark.slow
def test_db_detector_roundtrip(tmp_path):
    from shizi.train.export import export_detector
    from shizi.train.from_onnx import load_onnx_into, read_init
    from shizi.train.nets.detection import build

    torch.manual_seed(0)
    orig = build("db")
    _scramble_batchnorms(orig, seed=4)
    torch.save({"arch": "db", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "max_side": 640,
                "step": 3, "model": orig.state_dict()}, tmp_path / "weights.pt")
    export_detector(tmp_path / "weights.pt", tmp_path / "det_db")
    info = read_init(tmp_path / "det_db")
    assert info["arch"] == "db" and "charset" not in info
    net = build("db")
    rep = load_onnx_into(net, info["onnx"])
    # the training-only threshold head is not in the graph; the probability head's BatchNorm after a
    # ConvTranspose is not folded and comes back as it was
    assert rep.missing and all(k.startswith("thresh_head.") for k in rep.missing)
    for k in ("running_mean", "running_var", "weight", "bias"):
        assert torch.equal(net.state_dict()[f"prob_head.2.{k}"], orig.state_dict()[f"prob_head.2.{k}"])
    x = torch.randn(1, 3, 160, 224, generator=torch.Generator().manual_seed(5))
    ref = _ort(info["onnx"], x)[0]
    net.eval()
    net.export = True
    with torch.no_grad():
        got = net(x).numpy()
    assert np.abs(got - ref).max() < 1e-4


@pytest.mark.slow
@pytest.mark.parametrize("name", ["det_db", "det_ctpn"])
def test_shipped_detectors_load(name):
    from shizi.train.from_onnx import load_onnx_into, read_init
    from shizi.train.nets.detection import build

    info = read_init(MODELS / name)
    net = build(info["arch"])
    load_onnx_into(net, info["onnx"])
    x = torch.randn(1, 3, 128, 192, generator=torch.Generator().manual_seed(6))
    ref = _ort(info["onnx"], x)
    net.eval()
    net.export = True
    with torch.no_grad():
        got = net(x)
    got = got if isinstance(got, tuple) else (got,)
    for g, r in zip(got, ref, strict=True):
        assert np.abs(g.numpy() - r).max() < 1e-4


def _line_images(n: int) -> list[np.ndarray]:
    """Rendered synthetic lines where fonts are installed, else random grey strips."""
    try:
        from shizi.train.rec_data import SynthLines

        lines = SynthLines(seed=11, max_chars=12)
        return [lines[i][0] for i in range(n)]
    except Exception:  # noqa: BLE001 - no fonts: random images still exercise every weight
        rng = np.random.default_rng(11)
        return [rng.integers(0, 256, (32, 160), dtype=np.uint8) for _ in range(n)]


@pytest.mark.slow
def test_shipped_recognizer_loads_and_agrees_with_onnxruntime():
    from shizi.train.from_onnx import load_onnx_into, read_init
    from shizi.train.nets.recognition import build
    from shizi.train.rec_data import collate

    info = read_init(MODELS / "rec_crnn_lite")
    assert info["arch"] == "crnn_lite" and info["width_stride"] == 8 and len(info["charset"]) > 9000
    net = build(info["arch"], len(info["charset"]) + 1)
    rep = load_onnx_into(net, info["onnx"])
    assert not rep.missing and len(rep.folded_bn) == 13
    net.eval()
    imgs = _line_images(6)
    x, _, _ = collate([(im, "") for im in imgs])
    x = torch.cat([x, torch.rand(2, 1, 32, x.shape[3], generator=torch.Generator().manual_seed(7)) * 2 - 1])
    ref = _ort(info["onnx"], x)[0].argmax(-1)
    with torch.no_grad():
        got = net(x).argmax(-1).numpy()
    assert (got == ref).mean() >= 0.95


@pytest.mark.slow
def test_rec_trainer_starts_from_a_model_folder(tmp_path):
    """``python -m shizi.train rec --init src/shizi/models/rec_crnn_lite``: charset and architecture
    from the folder, and two near-zero-learning-rate steps leave a net that still reads like the ONNX
    model (the BatchNorms' running statistics start where the exported network's were)."""
    import argparse

    from shizi.synth.charset import load_charset
    from shizi.train.checkpoint import load_weights
    from shizi.train.nets.recognition import build
    from shizi.train.rec import add_args, train
    from shizi.train.rec_data import collate

    p = argparse.ArgumentParser()
    add_args(p)
    args = p.parse_args([
        "--init", str(MODELS / "rec_crnn_lite"), "--out", str(tmp_path / "run"), "--steps", "2",
        "--batch", "4", "--workers", "0", "--threads", "1", "--val-size", "0", "--ckpt-every", "2",
        "--bucket", "1", "--val-every", "1000", "--warmup", "1", "--lr", "1e-9", "--max-chars", "8",
    ])
    train(args)
    w = load_weights(tmp_path / "run" / "weights.pt")
    assert w["arch"] == "crnn_lite" and w["step"] == 2
    assert w["charset"] == load_charset(MODELS / "rec_crnn_lite" / "charset.txt")
    net = build("crnn_lite", len(w["charset"]) + 1)
    net.load_state_dict(w["model"])
    net.eval()
    x, _, _ = collate([(im, "") for im in _line_images(4)])
    ref = _ort(MODELS / "rec_crnn_lite" / "model.onnx", x)[0].argmax(-1)
    with torch.no_grad():
        got = net(x).argmax(-1).numpy()
    assert (got == ref).mean() >= 0.95


@pytest.mark.slow
def test_det_trainer_starts_from_a_model_folder(tmp_path):
    import argparse

    from shizi.train import det
    from shizi.train.checkpoint import load_weights

    p = argparse.ArgumentParser()
    det.add_args(p)
    args = p.parse_args(["--init", str(MODELS / "det_ctpn"), "--out", str(tmp_path), "--steps", "1",
                         "--batch", "2", "--size", "128", "--crops-per-page", "4", "--workers", "0",
                         "--ckpt-every", "1", "--log-every", "1", "--warmup", "1", "--threads", "1"])
    det.train(args)
    w = load_weights(tmp_path / "weights.pt")
    assert w["arch"] == "ctpn" and w["step"] == 1  # the architecture came from the folder's config.json
