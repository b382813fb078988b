"""Tiny ONNX models that follow the model-folder contract (docs/ARCHITECTURE.md), built with onnx.helper.

They are *not* OCR models: the recognizer reads each dark run of a line as the symbol "中", and the
detector's probability map is the blurred dark-pixel mask. They exist so the pipeline, decoding,
layout and outputs are testable before (and independently of) the trained models.

The graphs are committed as ``tests/data/tiny-det.onnx`` and ``tests/data/tiny-rec.onnx`` so that the
runtime's tests need only the runtime (onnxruntime, not the ``onnx`` package of the train extra);
``python tests/tiny_models.py`` rebuilds them, and ``test_tiny_models_are_what_the_builders_make``
checks they match these builders.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

OPSET = 13
DATA = Path(__file__).parent / "data"


def _const(name: str, value):
    from onnx import TensorProto, helper

    arr = np.asarray(value)
    dtype = TensorProto.INT64 if arr.dtype.kind == "i" else TensorProto.FLOAT
    arr = arr.astype(np.int64 if dtype == TensorProto.INT64 else np.float32)
    return helper.make_node(
        "Constant",
        [],
        [name],
        value=helper.make_tensor(name + "_t", dtype, arr.shape, arr.flatten().tolist()),
    )


def recognizer_model(height: int = 32, stride: int = 8, sharp: float = 6.0) -> bytes:
    """Input ``image`` [N,1,H,W] → ``probs`` [N, W/stride, 3]:
    class 1 where a column slab is dark, else blank."""
    import onnx
    from onnx import TensorProto, helper

    nodes = [
        helper.make_node(
            "AveragePool", ["image"], ["pooled"], kernel_shape=[height, stride], strides=[height, stride]
        ),
        _const("axes12", [1, 2]),
        helper.make_node("Squeeze", ["pooled", "axes12"], ["m2"]),  # [N, T] mean in [-1, 1]
        _const("axes2", [2]),
        helper.make_node("Unsqueeze", ["m2", "axes2"], ["m"]),  # [N, T, 1]
        _const("w", [sharp, -sharp, 0.0]),
        _const("b", [0.0, 0.0, -10.0]),
        helper.make_node("Mul", ["m", "w"], ["mw"]),
        helper.make_node("Add", ["mw", "b"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probs"], axis=-1),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_rec",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, height, "W"])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", "T", 3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def detector_model(kh: int = 5, kw: int = 25, gain: float = 20.0, level: float = 0.3) -> bytes:
    """Input ``image`` [N,3,H,W] (mean 0.5, std 0.5) → ``prob`` [N,1,H,W]
    = sigmoid(gain·(blur(dark) − level))."""
    import onnx
    from onnx import TensorProto, helper

    nodes = [
        _const("axes1", [1]),
        helper.make_node("ReduceMean", ["image"], ["g"], axes=[1], keepdims=1),
        _const("neg_half", -0.5),
        _const("half", 0.5),
        helper.make_node("Mul", ["g", "neg_half"], ["g2"]),
        helper.make_node("Add", ["g2", "half"], ["dark"]),  # 0 white .. 1 black
        helper.make_node(
            "AveragePool",
            ["dark"],
            ["blur"],
            kernel_shape=[kh, kw],
            strides=[1, 1],
            pads=[kh // 2, kw // 2, kh // 2, kw // 2],
            count_include_pad=0,
        ),
        _const("level", level),
        _const("gain", gain),
        helper.make_node("Sub", ["blur", "level"], ["c"]),
        helper.make_node("Mul", ["c", "gain"], ["z"]),
        helper.make_node("Sigmoid", ["z"], ["prob"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_det",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, ["N", 1, "H", "W"])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def orienter_model(patch: int = 128, turn: int = 1) -> bytes:
    """Input ``image`` [K,1,P,P] → ``probs`` [K,4]: every patch says turn ``turn`` (index into 0, 90, 180,
    270) with probability ~0.98, whatever it shows: a stand-in that makes the Reader turn pages."""
    import onnx
    from onnx import TensorProto, helper

    logits = [0.0] * 4
    logits[turn] = 5.0
    nodes = [
        _const("zero", 0.0),
        helper.make_node("Mul", ["image", "zero"], ["z"]),
        helper.make_node("ReduceMean", ["z"], ["zk"], axes=[1, 2, 3], keepdims=0),  # [K]
        _const("axes1", [1]),
        helper.make_node("Unsqueeze", ["zk", "axes1"], ["zk1"]),  # [K, 1]
        _const("logits", [logits]),  # [1, 4]
        helper.make_node("Add", ["zk1", "logits"], ["l"]),
        helper.make_node("Softmax", ["l"], ["probs"], axis=-1),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_orient",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["K", 1, patch, patch])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["K", 4])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def make_tiny_orienter(root: Path) -> Path:
    """A ``tiny-ori`` model folder (:func:`orienter_model`: always turn 90) under ``root``."""
    return write_model_folder(
        root / "tiny-ori",
        (DATA / "tiny-ori.onnx").read_bytes(),
        {"name": "tiny-ori", "task": "orientation", "arch": "orient-tiny-test", "patch": 128, "side": 1024,
         "metrics": {"note": "test model"}},
    )


def write_model_folder(folder: Path, data: bytes, config: dict, charset: list[str] | None = None) -> Path:
    """A model folder: ``data`` (a serialized ONNX graph) as model.onnx, config.json with its hash."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.onnx").write_bytes(data)
    cfg = dict(config)
    cfg.setdefault("onnx", "model.onnx")
    cfg["sha256"] = hashlib.sha256(data).hexdigest()
    (folder / "config.json").write_text(json.dumps(cfg, ensure_ascii=False, indent=2), encoding="utf-8")
    if charset is not None:
        (folder / "charset.txt").write_text("".join(s + "\n" for s in charset), encoding="utf-8")
    (folder / "MODEL.md").write_text(f"# {cfg['name']}\n\nTiny test model, not for OCR.\n", encoding="utf-8")
    return folder


def make_tiny_models(root: Path) -> tuple[Path, Path]:
    """Write ``tiny-det`` and ``tiny-rec`` model folders under ``root``; returns their paths."""
    det = write_model_folder(
        root / "tiny-det",
        (DATA / "tiny-det.onnx").read_bytes(),
        {
            "name": "tiny-det",
            "task": "detection",
            "arch": "db-tiny-test",
            "default": True,
            "mean": [0.5, 0.5, 0.5],
            "std": [0.5, 0.5, 0.5],
            "max_side": 1024,
            "thresh": 0.3,
            "box_thresh": 0.5,
            "unclip_ratio": 0.3,
            "min_size": 3,
            "merge_gap": 0.0,  # the DB paper's post-processing: no joining of kernel pieces
            "bridge_gap": 0.0,
            "join_boxes": "kernel",
            "metrics": {"note": "test model"},
        },
    )
    rec = write_model_folder(
        root / "tiny-rec",
        (DATA / "tiny-rec.onnx").read_bytes(),
        {
            "name": "tiny-rec",
            "task": "recognition",
            "arch": "crnn-tiny-test",
            "default": True,
            "height": 32,
            "width_stride": 8,
            "ink_margin": 0.2,
            "width_scale": 1.0,
            "reread_scales": [],  # read each line once
            "reread_until_agree": False,
            "metrics": {"note": "test model"},
        },
        charset=["中", "A"],
    )
    return det, rec


if __name__ == "__main__":
    DATA.mkdir(exist_ok=True)
    (DATA / "tiny-det.onnx").write_bytes(detector_model())
    (DATA / "tiny-rec.onnx").write_bytes(recognizer_model())
    (DATA / "tiny-ori.onnx").write_bytes(orienter_model())
    print(f"wrote {DATA}/tiny-det.onnx, tiny-rec.onnx and tiny-ori.onnx")
