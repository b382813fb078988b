"""Each inference stage's settings: a typed, frozen dataclass read from the model's ``config.json``.

The defaults written here are the only ones: a model folder's ``config.json`` holds what comes from
its network and training (input shape, normalisation, shrink ratio, anchors, charset, hash) and the
settings in which it differs from these; a missing key takes the default, an unknown key is an error
(a misspelt setting would otherwise be ignored in silence). Tests and benchmarks build configs
directly (``DBConfig(thresh=0.3)``) or vary one (``dataclasses.replace(cfg, box_thresh=0.5)``).

Post-processing defaults are those of the shipped models (``det_db``, ``det_ctpn``, ``rec_crnn_lite``),
chosen as their model cards describe.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import ModelError

#: ImageNet channel mean and standard deviation (RGB, 0-1): the detectors' input normalisation
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: keys of a model's ``config.json`` that describe the model rather than set a stage (models/__init__.py)
MODEL_KEYS = frozenset({"name", "task", "arch", "onnx", "sha256", "default", "metrics", "trained_steps",
                        "samples_seen", "charset", "file"})

C = TypeVar("C", bound="StageConfig")


@dataclass(frozen=True)
class StageConfig:
    """Base of the stage configs: reading from a model's config.json, checked and typed."""

    @classmethod
    def from_model(cls: type[C], config: Mapping[str, Any], source: str = "config.json") -> C:
        """The stage's settings from a model's config (a ``config.json`` dict); raises
        :class:`~shizi.errors.ModelError` for an unknown key or a value of the wrong type."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(config) - set(fields) - MODEL_KEYS)
        if unknown:
            raise ModelError(f"{source}: unknown setting(s) {', '.join(unknown)} for {cls.__name__} "
                             f"(known: {', '.join(sorted(fields))})")
        hints = typing.get_type_hints(cls)
        values = {}
        for name in fields:
            if name in config:
                try:
                    values[name] = _coerce(config[name], hints[name])
                except (TypeError, ValueError) as e:
                    raise ModelError(f"{source}: {name} = {config[name]!r}: {e}") from None
        try:
            return cls(**values)
        except TypeError as e:  # a required setting is missing
            raise ModelError(f"{source}: {e}") from None

    def replace(self: C, **changes: Any) -> C:
        """A copy with ``changes``, coerced and checked as :meth:`from_model` does."""
        return type(self).from_model({**dataclasses.asdict(self), **changes}, source=type(self).__name__)

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Raise ValueError for values out of range (subclasses)."""


def _coerce(value: Any, hint: Any) -> Any:
    """``value`` as type ``hint``: bool, int, float, str, tuple[float, ...], and ``X | None``."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return None if value is None else _coerce(value, args[0])
    if typing.get_origin(hint) is tuple:
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            raise TypeError("expected a list")
        (item, _) = typing.get_args(hint)
        return tuple(_coerce(v, item) for v in value)
    if hint is bool:
        if not isinstance(value, bool):
            raise TypeError("expected true or false")
        return value
    if hint in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"expected a number, got {type(value).__name__}")
        if hint is int and value != int(value):
            raise TypeError("expected a whole number")
        return hint(value)
    if hint is str:
        if not isinstance(value, str):
            raise TypeError("expected a string")
        return value
    raise TypeError(f"unsupported setting type {hint}")


def _positive(cfg: StageConfig, *names: str) -> None:
    for n in names:
        if not getattr(cfg, n) > 0:
            raise ValueError(f"{type(cfg).__name__}.{n} must be > 0, got {getattr(cfg, n)!r}")


@dataclass(frozen=True)
class DetectorConfig(StageConfig):
    """What every detector's input shares: RGB normalisation and the long-side cap."""

    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    #: the page is shrunk so its long side is at most this many pixels
    max_side: int = 1024

    def check(self) -> None:
        _positive(self, "max_side")
        if len(self.mean) != 3 or len(self.std) != 3:
            raise ValueError(f"{type(self).__name__}.mean and std need 3 values (RGB)")


@dataclass(frozen=True)
class DBConfig(DetectorConfig):
    """DB detector: input, and :class:`~shizi.detection.db.DBPostProcess`."""

    #: probability above which a pixel belongs to a text kernel
    thresh: float = 0.25
    #: a kernel's mean probability must reach this to count as a line
    box_thresh: float = 0.5
    #: the training shrink ratio (unclip inverts it exactly for a rectangle), or None for the DB
    #: paper's ``area * unclip_ratio / perimeter``; written by export from the training recipe
    shrink_ratio: float | None = None
    #: scale of the unclip distance
    unclip_ratio: float = 0.6
    #: kernels thinner than this (model pixels) are dropped
    min_size: float = 3.0
    max_candidates: int = 2000
    #: line assembly (shizi.detection.lines, whose docstring names each rule):
    #: pieces lying further than this (degrees) off the page's direction join nothing
    max_axis_angle: float = 30.0
    #: kernel pieces along one line join over a gap up to this many line heights; 0 = off
    merge_gap: float = 1.0
    #: ... but a gap wider than this many line heights not across a gutter (a blank channel through
    #: the lines around it); larger than ``merge_gap`` = off
    gutter_gap: float = 0.3
    #: pieces further apart, up to this many line heights, join over faint marks (probability at least
    #: ``bridge_thresh``) but not over a gutter (the **bridge** rule); 0 = off
    bridge_gap: float = 8.0
    bridge_thresh: float = 0.15
    #: how a joined line's box is unclipped: "kernel" (the union at once) or "pieces" (each piece)
    join_boxes: str = "pieces"
    #: text scale: when the median line height the first pass finds (model pixels) is further than
    #: ``line_height_tolerance`` times from ``line_height``, the page is detected again at the scale
    #: that brings it there (enlarged at most ``max_upscale`` times; a page larger than ``tile``
    #: pixels at that scale in tiles overlapping by ``tile_overlap``); ``line_height`` 0 = one pass.
    #: 28 / 1.5 chosen on synthetic pages (``bench/det_scale.py``: shrunk, enlarged, 3 x 3 grids)
    line_height: float = 28.0
    line_height_tolerance: float = 1.5
    #: how many such passes at most, each estimated from the one before (same direction only)
    scale_passes: int = 2
    max_upscale: float = 3.0
    #: ... and never to more than this many pixels (memory and time stay bounded on huge pages)
    max_scaled_pixels: int = 40_000_000
    tile: int = 1024
    tile_overlap: int = 128

    def check(self) -> None:
        super().check()
        _positive(self, "unclip_ratio", "max_candidates", "line_height_tolerance", "max_upscale",
                  "max_scaled_pixels")
        if (self.line_height < 0 or self.scale_passes < 0 or self.tile < 64
                or not 0 <= self.tile_overlap < self.tile // 2):
            raise ValueError("DBConfig: line_height >= 0, scale_passes >= 0, tile >= 64 and "
                             "0 <= tile_overlap < tile / 2")
        if self.join_boxes not in ("kernel", "pieces"):
            raise ValueError(f"DBConfig.join_boxes must be 'kernel' or 'pieces', got {self.join_boxes!r}")


#: CTPN's anchor heights (pixels at model resolution): 11 .. 100, ratio about 1/0.78; the training nets'
CTPN_ANCHOR_HEIGHTS = (11, 14, 18, 23, 29, 37, 48, 61, 78, 100)


@dataclass(frozen=True)
class CTPNConfig(DetectorConfig):
    """CTPN detector: input, anchors, and the text-line builder (``shizi.detection.ctpn.build_lines``)."""

    max_side: int = 1280
    #: the network's horizontal stride: one proposal column per ``stride`` pixels
    stride: int = 16
    anchor_heights: tuple[float, ...] = CTPN_ANCHOR_HEIGHTS
    #: text/non-text score a proposal must reach
    score_thresh: float = 0.3
    nms_thresh: float = 0.3
    #: proposals join a line over a horizontal gap up to this many proposal heights
    max_gap: float = 4.0
    min_v_overlap: float = 0.6
    min_size_sim: float = 0.6
    #: a line's mean proposal score must reach this
    line_score: float = 0.6
    min_proposals: int = 2
    #: passes that join line fragments on one row (0 = off)
    merge_fragments: int = 1

    def check(self) -> None:
        super().check()
        _positive(self, "stride", "max_gap")
        if not self.anchor_heights:
            raise ValueError("CTPNConfig.anchor_heights is empty")


@dataclass(frozen=True)
class RecConfig(StageConfig):
    """CRNN/CTC recognizer: input, width batching, re-reading, and the decoder's language models."""

    #: the network's width stride: one CTC time step per ``width_stride`` input columns (from the weights)
    width_stride: int
    height: int = 32
    #: input normalisation of the grey crop in 0-1: (x - mean) / std
    mean: float = 0.5
    std: float = 0.5
    #: crops narrower than this are widened (None: max(width_stride, height / 2))
    min_width: int | None = None
    max_width: int = 2048
    max_batch_pixels: int = 32 * 8192
    #: each crop is padded (white) to the next of a geometric series of widths with this ratio
    #: (multiples of ``width_stride``) and batched only with crops of that width, so its reading never
    #: depends on which crops share its batch; padding adds at most ``pad_ratio - 1`` of the width
    pad_ratio: float = 1.125
    #: the network quantizes its activations per run, over the whole batch (onnxruntime's dynamic int8,
    #: written by the exporter): crops then run one at a time, or a batch-mate would change their scale
    #: (10 of 300 synthetic lines read differently at batch size 1 and 16 before; float graphs batch)
    dynamic_quant: bool = False
    #: rows kept above and below the ink band, as a fraction of its height; None keeps whole crops
    ink_margin: float | None = 0.15
    #: crops are resized to width * height / h * width_scale: > 1 gives narrow glyphs more time steps
    width_scale: float = 1.05
    #: an unsure line (a character under ``reread_threshold``) is read again at these width scales
    reread_scales: tuple[float, ...] = (1.15, 0.95, 1.25)
    reread_threshold: float = 0.7
    #: stop re-reading a line once two of its readings give the same text
    reread_until_agree: bool = True
    #: the character bigram model (a model name, task "lm") that settles uncertain Han characters
    lm: str | None = None
    lm_weight: float = 0.3
    lm_threshold: float = 0.9
    #: the word list (a model name, task "lm") that settles uncertain letters of Latin words
    lexicon: str | None = None
    lexicon_threshold: float = 0.9
    #: the decoder's correctors, applied in this order (shizi.recognition.decoder.CORRECTORS): "lm" the
    #: bigram model, "lexicon" the word list, "quotes" quotation marks and brackets made to pair
    correctors: tuple[str, ...] = ("lm", "lexicon", "quotes")

    def check(self) -> None:
        _positive(self, "width_stride", "height", "std", "max_width", "max_batch_pixels", "width_scale")
        if self.pad_ratio <= 1.0:
            raise ValueError("RecConfig.pad_ratio must be > 1")
        if any(s <= 0 for s in self.reread_scales):
            raise ValueError("RecConfig.reread_scales must be > 0")
        from .recognition.decoder import CORRECTORS

        unknown = [n for n in self.correctors if n not in CORRECTORS]
        if unknown or len(set(self.correctors)) < len(self.correctors):
            raise ValueError(f"RecConfig.correctors: {list(self.correctors)}; each of {list(CORRECTORS)} "
                             "at most once")

    @property
    def min_crop_width(self) -> int:
        return self.min_width if self.min_width is not None else max(self.width_stride, self.height // 2)


@dataclass(frozen=True)
class OrientConfig(StageConfig):
    """Page orientation (:mod:`shizi.orientation`): the patches a page is judged by, and when to turn it."""

    #: the page is scaled so its long side is this many pixels before patches are cut (as in training)
    side: int = 1024
    #: patch side (pixels); the network's input is [K, 1, patch, patch]
    patch: int = 128
    #: patches per page: the most textured ones on a grid of half-patch steps
    patches: int = 8
    #: a page is turned only when the mean probability of the winning rotation reaches this: 0.7 turns
    #: no upright synthetic scene (6 of 60 at 0.5) and 98 % of turned synthetic pages (99 % at 0.5)
    min_confidence: float = 0.7

    def check(self) -> None:
        _positive(self, "side", "patch", "patches")
        if self.patch > self.side:
            raise ValueError("OrientConfig.patch must not exceed side")


@dataclass(frozen=True)
class LayoutConfig(StageConfig):
    """Reading order and blocks (:mod:`shizi.layout`); lengths are in the page's median line heights.
    Chosen on synthetic pages (``bench/layout.py --synth``)."""

    #: a blank channel at least this wide, down a run of rows with text on both sides, parts columns
    min_gutter: float = 0.3
    #: ... unless the lines beside the channel share their rows and some column's median line is under
    #: this share of its widest (text fills its column, table cells do not): a table, read by rows
    column_fill: float = 0.7
    #: ... or some column's widest line is narrower than this
    min_column: float = 6.0
    #: two lines whose heights overlap by more than this share of the shorter are in one row
    row_overlap: float = 0.3
    #: a block starts where the gap above a row exceeds the column's usual gap by this much
    para_gap: float = 0.5
    #: ... or where a row starts this much right of the column's left edge below one that does not
    indent: float = 1.0
    #: ... or below a row that ends this much left of the column's right edge (a paragraph's last line)
    short_end: float = 2.0
    #: ... or where the line height changes by more than this factor; blocks of lines this much taller
    #: than the page's usual line are headings
    heading_ratio: float = 1.25
    #: the first (last) row of a page is a header (footer) when its lines are at most this factor of the
    #: usual line height, or are short (under ``margin_width`` of the text's width) and set apart by
    #: ``margin_gap`` or more
    margin_height: float = 0.9
    margin_width: float = 0.3
    margin_gap: float = 1.0

    def check(self) -> None:
        _positive(self, "min_gutter", "heading_ratio")
