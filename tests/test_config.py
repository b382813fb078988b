"""Stage settings: one typed config per stage, defaults in shizi.config only, read from config.json."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from shizi.config import MODEL_KEYS, CTPNConfig, DBConfig, RecConfig
from shizi.errors import ModelError

MODELS = Path(__file__).resolve().parents[1] / "src" / "shizi" / "models"
STAGE = {"detection": {"db": DBConfig, "ctpn": CTPNConfig}, "recognition": {"crnn_lite": RecConfig}}
# what comes from a network and its training; export writes these into config.json
NETWORK = {"mean", "std", "max_side", "stride", "anchor_heights", "shrink_ratio", "height", "width_stride"}


def _shipped() -> list[tuple[str, dict]]:
    out = []
    for p in sorted(MODELS.glob("*/config.json")):
        cfg = json.loads(p.read_text(encoding="utf-8"))
        if cfg["task"] in STAGE:
            out.append((p.parent.name, cfg))
    return out


@pytest.mark.parametrize("name,cfg", _shipped(), ids=[n for n, _ in _shipped()])
def test_shipped_configs_read_and_repeat_no_default(name, cfg):
    cls = STAGE[cfg["task"]][cfg["arch"]]
    stage = cls.from_model(cfg, source=name)
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    for key in set(cfg) - MODEL_KEYS - NETWORK:
        value = getattr(stage, key)
        assert value != defaults[key], f"{name}/config.json repeats shizi.config's {key} = {value!r}"


def test_unknown_or_mistyped_settings_are_errors():
    with pytest.raises(ModelError, match="unknown setting.*tresh"):
        DBConfig.from_model({"name": "x", "tresh": 0.3})
    with pytest.raises(ModelError, match="box_thresh"):
        DBConfig.from_model({"box_thresh": "high"})
    with pytest.raises(ModelError, match="reread_until_agree"):
        RecConfig.from_model({"width_stride": 8, "reread_until_agree": 1})  # a number is not a flag
    with pytest.raises(ModelError, match="width_stride"):
        RecConfig.from_model({"height": 32})  # a network property with no default
    with pytest.raises(ValueError, match="join_boxes"):
        DBConfig(join_boxes="union")
    with pytest.raises(ValueError, match="max_side"):
        CTPNConfig(max_side=0)


def test_configs_are_frozen_typed_and_replaced_by_copy():
    cfg = RecConfig.from_model({"width_stride": 8, "reread_scales": [1, 2], "lm": None, "max_width": 1024.0})
    assert cfg.reread_scales == (1.0, 2.0) and isinstance(cfg.max_width, int)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.height = 48
    other = cfg.replace(reread_scales=[], width_scale=1)
    assert other.reread_scales == () and other.width_scale == 1.0 and cfg.reread_scales == (1.0, 2.0)
    assert RecConfig(width_stride=8).min_crop_width == 16
    assert RecConfig(width_stride=8, min_width=4).min_crop_width == 4


def test_detector_and_recognizer_take_their_settings_from_the_config(tiny_models):
    from shizi.detection import load_detector
    from shizi.recognition import load_recognizer

    det_dir, rec_dir = tiny_models
    det = load_detector(det_dir)
    written = json.loads((det_dir / "config.json").read_text())
    assert det.config.thresh == written["thresh"] and det.config.merge_gap == 0.0
    assert det.config.bridge_thresh == DBConfig().bridge_thresh  # not in the file: the default
    looser = det.with_config(box_thresh=0.01)
    assert looser.session is det.session and looser.post.config.box_thresh == 0.01
    assert det.config.box_thresh == written["box_thresh"]
    rec = load_recognizer(rec_dir, reread=False)
    assert rec.config.reread_scales == () and rec.config.width_stride == 8
