"""CRNN/CTC recognizer runtime: preprocessing, width batching, the model run, decoding.

Decoding (greedy CTC and the correctors) is :mod:`shizi.recognition.decoder`; re-reading unsure lines
at other widths is :mod:`shizi.recognition.reread`, a strategy around :meth:`CRNNRecognizer._read`.
"""

from __future__ import annotations

import bisect
import copy
import math
from collections.abc import Callable, Iterator

import cv2
import numpy as np

from ..config import RecConfig
from ..models import ModelInfo
from .crops import ink_rows
from .decoder import build_correctors, ctc_greedy_decode
from .reread import Read, Rereader, SparseProbs
from .types import RecognitionResult


class CRNNRecognizer:
    """Runs a CRNN ONNX model (input ``image`` [N,1,H,W], output ``probs`` [N,T,C+1]): crops are made
    grey, trimmed to their ink band, resized to the model's height, batched by padded width, run, and
    decoded by the correctors ``config.correctors`` names (:mod:`shizi.recognition.decoder`).

    ``lm=False`` leaves out the correctors that need a language model (``lm``, ``lexicon``);
    ``reread=False`` reads every line once (:mod:`shizi.recognition.reread`, faster)."""

    def __init__(
        self, info: ModelInfo, threads: int = 1, batch_size: int = 16, lm: bool = True, reread: bool = True,
        config: RecConfig | None = None,
    ) -> None:
        self.info = info
        self.charset = info.charset()
        self.session = info.session(threads)
        self.input_name = self.session.get_inputs()[0].name
        outs = [o.name for o in self.session.get_outputs()]
        self.output_names = ["probs"] if "probs" in outs else outs[:1]
        self.batch_size = max(1, int(batch_size))
        self._class_of = {c: k + 1 for k, c in enumerate(self.charset)}  # CTC class of a symbol (blank 0)
        self._lms: dict = {}  # language models by (class, name), shared with with_config variants
        self.lm = lm
        cfg = config or RecConfig.from_model(info.config, source=f"{info.path}/config.json")
        self._configure(cfg if reread else cfg.replace(reread_scales=()))

    def _configure(self, config: RecConfig) -> None:
        self.config = config
        self._widths = width_classes(config.width_stride, config.max_width, config.pad_ratio)
        self._batch = 1 if config.dynamic_quant else self.batch_size
        names = [n for n in config.correctors if self.lm or n not in ("lm", "lexicon")]
        self.correctors = build_correctors(
            names, self.charset, lm=config.lm, lm_weight=config.lm_weight, lm_threshold=config.lm_threshold,
            lexicon=config.lexicon, lexicon_threshold=config.lexicon_threshold, cache=self._lms)
        self.rereader = Rereader(config.reread_scales, config.reread_threshold, config.reread_until_agree,
                                 self._class_of)

    def with_config(self, **changes) -> CRNNRecognizer:
        """The same model (session shared) with some settings changed."""
        other = copy.copy(self)
        other._configure(self.config.replace(**changes))
        return other

    def _grey_band(self, crop: np.ndarray) -> np.ndarray:
        """Grey, trimmed to the ink band (:func:`ink_rows`) when ``ink_margin`` is set."""
        g = crop if crop.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(crop[:, :, :3]), cv2.COLOR_RGB2GRAY)
        if self.config.ink_margin is not None:
            top, bottom = ink_rows(g, self.config.ink_margin)
            g = g[top:bottom]
        return g

    def _resize(self, g: np.ndarray, width_scale: float) -> tuple[np.ndarray, float]:
        """Height ``self.config.height``, aspect times ``width_scale`` (capped at ``max_width``); returns
        (image, x scale)."""
        h, w = g.shape[:2]
        nw = int(round(w * self.config.height / max(h, 1) * width_scale))
        nw = min(max(nw, self.config.min_crop_width), self.config.max_width)
        interp = cv2.INTER_AREA if h > self.config.height else cv2.INTER_LINEAR
        r = cv2.resize(g, (nw, self.config.height), interpolation=interp)
        return r, nw / max(w, 1)

    def recognize(self, crops: list[np.ndarray]) -> list[RecognitionResult]:
        """Recognise line crops. Each batch's unsure lines are read again before the next batch runs."""
        greys = [self._grey_band(c) for c in crops]
        prepared = [self._resize(g, self.config.width_scale) for g in greys]
        results: list[RecognitionResult] = [RecognitionResult("", 0.0)] * len(crops)
        for batch in self._batches(prepared):
            first = self._run_batch([prepared[k] for k in batch], keep=self.rereader.unsure)

            def read_at(js: list[int], scale: float, batch: list[int] = batch) -> list[Read]:
                return self._read([self._resize(greys[batch[j]], scale) for j in js])

            for k, r in zip(batch, self.rereader.settle(first, read_at), strict=True):
                results[k] = r
        return results

    def _padded(self, width: int) -> int:
        """The width a crop ``width`` wide is padded to: its class in ``self._widths``."""
        return self._widths[min(bisect.bisect_left(self._widths, width), len(self._widths) - 1)]

    def _batches(self, prepared: list[tuple[np.ndarray, float]]) -> Iterator[list[int]]:
        """Indices of ``prepared`` in batches of one padded width (:attr:`RecConfig.pad_ratio`), at most
        ``batch_size`` crops (one for a dynamically quantized network) and ``max_batch_pixels``."""
        padded = [self._padded(im.shape[1]) for im, _ in prepared]
        order = sorted(range(len(prepared)), key=lambda i: (padded[i], i))
        i = 0
        while i < len(order):
            w = padded[order[i]]
            j = i + 1
            while (j < len(order) and j - i < self._batch and padded[order[j]] == w
                   and (j - i + 1) * w * self.config.height <= self.config.max_batch_pixels):
                j += 1
            yield order[i:j]
            i = j

    def _read(self, prepared: list[tuple[np.ndarray, float]]) -> list[Read]:
        """:meth:`_run_batch` over all of ``prepared``, batched by width, keeping every crop's
        probabilities; results in input order."""
        out: list = [None] * len(prepared)
        for batch in self._batches(prepared):
            reads = self._run_batch([prepared[k] for k in batch], keep=lambda _: True)
            for k, read in zip(batch, reads, strict=True):
                out[k] = read
        return out

    def _run_batch(
        self, items: list[tuple[np.ndarray, float]], keep: Callable[[RecognitionResult], bool]
    ) -> list[Read]:
        """Run the model on resized crops ``(image, x scale)``; returns each one's decoded result (x in
        crop pixels) and, where ``keep(result)``, its probabilities (:class:`SparseProbs`)."""
        wpad = max(self._padded(im.shape[1]) for im, _ in items)
        x = np.ones((len(items), 1, self.config.height, wpad), dtype=np.float32)
        for row, (im, _) in enumerate(items):
            x[row, 0, :, : im.shape[1]] = (im.astype(np.float32) / 255.0 - self.config.mean) / self.config.std
        probs = np.asarray(self.session.run(self.output_names, {self.input_name: x})[0], dtype=np.float32)
        steps_total = probs.shape[1]
        eff_stride = wpad / steps_total if steps_total else self.config.width_stride
        out = []
        for row, (im, scale) in enumerate(items):
            p = probs[row, : int(math.ceil(im.shape[1] / eff_stride))]
            r = ctc_greedy_decode(p, self.charset, None, eff_stride, self.correctors)
            inv = 1.0 / scale
            mapped = RecognitionResult(
                r.text,
                r.confidence,
                r.char_confidences,
                [x_ * inv for x_ in r.char_x],
                [(a * inv, b * inv) for a, b in r.char_spans],
            )
            out.append((mapped, SparseProbs(p) if keep(mapped) else None))
        return out


def width_classes(stride: int, max_width: int, ratio: float) -> list[int]:
    """Padded widths: multiples of ``stride`` from ``4 * stride``, each about ``ratio`` times the one
    before, the last ``max_width`` (rounded up to a multiple of ``stride``)."""
    top = int(math.ceil(max_width / stride)) * stride
    out = [min(4 * stride, top)]
    while out[-1] < top:
        out.append(min(top, max(out[-1] + stride, int(math.ceil(out[-1] * ratio / stride)) * stride)))
    return out
