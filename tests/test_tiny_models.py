"""The committed tiny test models are what ``tests/tiny_models.py`` builds (needs the ``onnx`` package)."""

from __future__ import annotations

import pytest

from tiny_models import DATA, detector_model, orienter_model, recognizer_model

onnx = pytest.importorskip("onnx", reason="rebuilding the tiny models needs onnx (the train extra)")


BUILDERS = [("tiny-det", detector_model), ("tiny-rec", recognizer_model), ("tiny-ori", orienter_model)]


@pytest.mark.parametrize("name,build", BUILDERS)
def test_tiny_models_are_what_the_builders_make(name, build):
    committed = onnx.load_from_string((DATA / f"{name}.onnx").read_bytes())
    built = onnx.load_from_string(build())
    assert committed.graph == built.graph, f"rebuild: python tests/tiny_models.py ({name})"
    assert committed.opset_import == built.opset_import
