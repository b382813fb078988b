"""CRNN/CTC recognizer runtime: preprocessing, width batching, decoding, re-reading unsure lines."""

from __future__ import annotations

import bisect
import copy
import math
from collections.abc import Callable, Iterator

import cv2
import numpy as np

from ..config import RecConfig
from ..models import ModelInfo, load_model
from .crops import ink_rows
from .ctc import ctc_greedy_decode, ctc_log_likelihoods
from .lexicon import Lexicon, WordCorrector
from .lm import BigramLM, CharCorrector
from .quotes import QuotePairer
from .types import RecognitionResult


class CRNNRecognizer:
    """Runs a CRNN ONNX model (input ``image`` [N,1,H,W], output ``probs`` [N,T,C+1]).

    When ``lm`` is true, the language models the model's config names settle uncertain characters:
    ``"lm"`` (with ``lm_weight`` and ``lm_threshold``) Han ones (:mod:`shizi.recognition.lm`),
    ``"lexicon"`` (with ``lexicon_threshold``) the letters of Latin words
    (:mod:`shizi.recognition.lexicon`).

    A line with a character less sure than ``reread_threshold`` is read again at each of
    ``reread_scales`` (widths relative to the crop's aspect, as ``width_scale``), in turn, and with
    ``reread_until_agree`` only until a reading repeats an earlier one's text; among the texts the
    readings give, the one with the highest CTC likelihood summed over all the readings (each per time
    step) wins. Different widths fail on different glyphs, and a wrong reading is rarely likely under
    the others. ``reread=False`` reads every line once (faster)."""

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
        self.lm = lm
        cfg = config or RecConfig.from_model(info.config, source=f"{info.path}/config.json")
        self._configure(cfg if reread else cfg.replace(reread_scales=()))

    def _configure(self, config: RecConfig) -> None:
        self.config = config
        self._batch = 1 if config.dynamic_quant else self.batch_size
        self._widths = width_classes(config.width_stride, config.max_width, config.pad_ratio)
        self.corrector: CharCorrector | None = None
        if self.lm and config.lm:
            self.corrector = CharCorrector(BigramLM(load_model(config.lm, task="lm")),
                                           weight=config.lm_weight, threshold=config.lm_threshold)
        self.words: WordCorrector | None = None
        if self.lm and config.lexicon:
            self.words = WordCorrector(Lexicon(load_model(config.lexicon, task="lm")), self.charset,
                                       threshold=config.lexicon_threshold)
        self.pairer = QuotePairer(self.charset) if config.pair_quotes else None

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
        """Recognise line crops. Each batch's unsure lines are read again at ``reread_scales`` before the
        next batch runs."""
        greys = [self._grey_band(c) for c in crops]
        prepared = [self._resize(g, self.config.width_scale) for g in greys]
        results: list[RecognitionResult] = [RecognitionResult("", 0.0)] * len(crops)
        for batch in self._batches(prepared):
            reads = self._run_batch([prepared[k] for k in batch], keep=self._unsure)
            unsure = [j for j, (_, probs) in enumerate(reads) if probs is not None]
            chosen = {}
            if unsure:
                readings = {j: [reads[j]] for j in unsure}
                open_ = list(unsure)
                for scale in self.config.reread_scales:
                    if not open_:
                        break
                    again = self._read([self._resize(greys[batch[j]], scale) for j in open_])
                    for j, read in zip(open_, again, strict=True):
                        readings[j].append(read)
                    if self.config.reread_until_agree:  # settled once a reading repeats an earlier one
                        open_ = [j for j in open_ if readings[j][-1][0].text not in
                                 {r.text for r, _ in readings[j][:-1]}]
                chosen = dict(zip(unsure, self._agree([readings[j] for j in unsure]), strict=True))
            for j, k in enumerate(batch):
                results[k] = chosen.get(j, reads[j][0])
        return results

    def _unsure(self, r: RecognitionResult) -> bool:
        """Whether a first reading is read again."""
        c = self.config
        return bool(c.reread_scales) and min(r.char_confidences, default=1.0) < c.reread_threshold

    def _agree(self, lines: list[list[tuple[RecognitionResult, SparseProbs]]]) -> list[RecognitionResult]:
        """For each line's readings, the reading whose text is most likely under all of them together
        (sum over readings of the CTC log-likelihood per time step); one likelihood pass for all lines."""
        texts = [list(dict.fromkeys(r.text for r, _ in readings)) for readings in lines]
        items = []
        for readings, ts in zip(lines, texts, strict=True):
            if len(ts) > 1:
                labels = [[self._class_of[c] for c in t] for t in ts]
                needed = sorted({0}.union(*labels))  # blank and the candidates' classes
                position = {k: i for i, k in enumerate(needed)}
                columns = [probs.columns(needed) for _, probs in readings]
                items += [(cols, [position[k] for k in lab]) for lab in labels for cols in columns]
        ll = iter(ctc_log_likelihoods(items).tolist())
        chosen = []
        for readings, ts in zip(lines, texts, strict=True):
            if len(ts) > 1:
                score = [sum(next(ll) / max(probs.steps, 1) for _, probs in readings) for _ in ts]
                best = ts[int(np.argmax(score))]
                chosen.append(next(r for r, _ in readings if r.text == best))
            else:
                chosen.append(readings[0][0])
        return chosen

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

    def _read(self, prepared: list[tuple[np.ndarray, float]]) -> list[tuple[RecognitionResult, SparseProbs]]:
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
    ) -> list[tuple[RecognitionResult, SparseProbs | None]]:
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
            r = ctc_greedy_decode(p, self.charset, None, eff_stride, self.corrector, self.pairer, self.words)
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


class SparseProbs:
    """A reading's probabilities ``[T, C+1]`` kept for the classes that reach ``floor`` at some step:
    a few hundred of the charset's thousands, so that a batch's full array need not be held while its
    unsure lines are read again. Other classes read as 0 (the likelihood's own floor)."""

    floor = 1e-4

    def __init__(self, probs: np.ndarray) -> None:
        self.steps = len(probs)
        self.classes = np.flatnonzero(probs.max(axis=0, initial=0.0) >= self.floor)
        self.values = np.ascontiguousarray(probs[:, self.classes])

    def columns(self, classes: list[int]) -> np.ndarray:
        """``[T, len(classes)]``: the probabilities of ``classes`` (sorted), 0 where not kept."""
        out = np.zeros((self.steps, len(classes)), dtype=self.values.dtype)
        idx = np.searchsorted(self.classes, classes)
        idx = np.minimum(idx, max(len(self.classes) - 1, 0))
        hit = np.flatnonzero(self.classes[idx] == classes) if len(self.classes) else np.zeros(0, int)
        out[:, hit] = self.values[:, idx[hit]]
        return out
