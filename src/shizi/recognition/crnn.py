"""CRNN/CTC recognizer runtime: preprocessing, width batching, greedy CTC decoding."""

from __future__ import annotations

import math

import cv2
import numpy as np

from ..models import ModelInfo, load_model
from .crops import INK_MARGIN, ink_rows
from .lexicon import Lexicon, WordCorrector
from .lm import BigramLM, CharCorrector
from .quotes import QuotePairer
from .types import RecognitionResult


def ctc_greedy_decode(
    probs: np.ndarray,
    charset: list[str],
    valid_steps: int | None = None,
    stride: float = 1.0,
    corrector: CharCorrector | None = None,
    pairer: QuotePairer | None = None,
    words: WordCorrector | None = None,
) -> RecognitionResult:
    """Greedy CTC on ``probs`` ``[T, C+1]`` (blank = 0).

    Argmax per step, collapse repeats, drop blanks; a ``corrector`` may then swap uncertain chars for
    runners-up at their peak step (:mod:`shizi.recognition.lm`), ``words`` settle uncertain letters of
    unknown Latin words (:mod:`shizi.recognition.lexicon`) and a ``pairer`` make quotation marks pair
    (:mod:`shizi.recognition.quotes`). A char's confidence is the max probability of its class
    over its run of steps; its x is ``(centre step + 0.5) * stride`` and its span the run's extent.
    """
    if valid_steps is not None:
        probs = probs[:valid_steps]
    if len(probs) == 0:
        return RecognitionResult("", 0.0)
    best = probs.argmax(axis=1)
    best_p = probs[np.arange(len(best)), best]
    # runs of equal argmax: (class, first step, last step), blanks and unknown classes dropped
    starts = np.flatnonzero(np.diff(best, prepend=-1))
    ends = np.append(starts[1:], len(best)) - 1
    run_max = np.maximum.reduceat(best_p, starts)
    classes = best[starts].tolist()
    keep = [i for i, k in enumerate(classes) if k != 0 and k - 1 < len(charset)]
    runs = [(classes[i], int(starts[i]), int(ends[i])) for i in keep]
    chars = [charset[k - 1] for k, _, _ in runs]
    confs = [float(run_max[i]) for i in keep]

    def peak(i: int) -> np.ndarray:
        _, s, t = runs[i]
        return probs[s + int(best_p[s : t + 1].argmax())]

    def replace(i: int, k: int | None) -> None:
        if k is not None:
            _, s, t = runs[i]
            confs[i] = float(probs[s : t + 1, k].max())

    if corrector is not None and runs:
        peaks = [peak(i) if c < corrector.threshold else None for i, c in enumerate(confs)]
        for i, k in enumerate(corrector.correct(chars, confs, peaks, charset)):
            replace(i, k)
    if words is not None and runs:
        rows = [peak(i) if c < words.threshold and words.needs_row(ch) else None
                for i, (ch, c) in enumerate(zip(chars, confs, strict=True))]
        for i, k in enumerate(words.correct(chars, confs, rows)):
            replace(i, k)
    if pairer is not None and runs:
        rows = [peak(i) if pairer.needs_rows(c) else None for i, c in enumerate(chars)]
        for i, k in enumerate(pairer.pair(chars, rows)):
            replace(i, k)
    xs = [((s + t) / 2 + 0.5) * stride for _, s, t in runs]
    spans = [(s * stride, (t + 1) * stride) for _, s, t in runs]
    text = "".join(chars)
    conf = float(np.mean(confs)) if confs else 0.0
    return RecognitionResult(text, conf, confs, xs, spans)


class CRNNRecognizer:
    """Runs a CRNN ONNX model (input ``image`` [N,1,H,W], output ``probs`` [N,T,C+1]).

    When ``lm`` is true, the language models the model's config names settle uncertain characters:
    ``"lm"`` (with ``lm_weight`` and ``lm_threshold``) Han ones (:mod:`shizi.recognition.lm`),
    ``"lexicon"`` (with ``lexicon_threshold``) the letters of Latin words
    (:mod:`shizi.recognition.lexicon`)."""

    def __init__(self, info: ModelInfo, threads: int = 1, batch_size: int = 16, lm: bool = True) -> None:
        cfg = info.config
        self.info = info
        self.charset = info.charset()
        self.session = info.session(threads)
        self.input_name = self.session.get_inputs()[0].name
        outs = [o.name for o in self.session.get_outputs()]
        self.output_names = ["probs"] if "probs" in outs else outs[:1]
        self.height = int(cfg.get("height", 32))
        self.stride = int(cfg.get("width_stride", 4))
        self.min_width = int(cfg.get("min_width", max(self.stride, self.height // 2)))
        self.max_width = int(cfg.get("max_width", 2048))
        self.batch_size = max(1, int(batch_size))
        self.max_batch_pixels = int(cfg.get("max_batch_pixels", 32 * 8192))
        # rows kept above and below the ink band, as a fraction of its height; None keeps whole crops
        margin = cfg.get("ink_margin", INK_MARGIN)
        self.ink_margin = None if margin is None else float(margin)
        # crops are resized to width * height / h * width_scale: > 1 gives narrow glyphs more time steps
        self.width_scale = float(cfg.get("width_scale", 1.0))
        self.corrector: CharCorrector | None = None
        if lm and cfg.get("lm"):
            self.corrector = CharCorrector(
                BigramLM(load_model(cfg["lm"], task="lm")),
                weight=float(cfg.get("lm_weight", CharCorrector.weight)),
                threshold=float(cfg.get("lm_threshold", CharCorrector.threshold)),
            )
        self.words: WordCorrector | None = None
        if lm and cfg.get("lexicon"):
            self.words = WordCorrector(
                Lexicon(load_model(cfg["lexicon"], task="lm")),
                self.charset,
                threshold=float(cfg.get("lexicon_threshold", WordCorrector.threshold)),
            )

        # quotation marks made to pair (shizi.recognition.quotes); config "pair_quotes": false turns it off
        self.pairer = QuotePairer(self.charset) if cfg.get("pair_quotes", True) else None

    def _prepare(self, crop: np.ndarray) -> tuple[np.ndarray, float]:
        """Grey, trimmed to the ink band (:func:`ink_rows`), height ``self.height``, aspect times
        ``width_scale`` (capped at ``max_width``); returns (image, x scale)."""
        g = crop if crop.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(crop[:, :, :3]), cv2.COLOR_RGB2GRAY)
        if self.ink_margin is not None:
            top, bottom = ink_rows(g, self.ink_margin)
            g = g[top:bottom]
        h, w = g.shape[:2]
        nw = int(round(w * self.height / max(h, 1) * self.width_scale))
        nw = min(max(nw, self.min_width), self.max_width)
        interp = cv2.INTER_AREA if h > self.height else cv2.INTER_LINEAR
        r = cv2.resize(g, (nw, self.height), interpolation=interp)
        return r, nw / max(w, 1)

    def recognize(self, crops: list[np.ndarray]) -> list[RecognitionResult]:
        """Recognise line crops; batches are formed by sorted width so padding stays small."""
        if not crops:
            return []
        prepared = [self._prepare(c) for c in crops]
        order = sorted(range(len(crops)), key=lambda i: prepared[i][0].shape[1])
        results: list[RecognitionResult | None] = [None] * len(crops)
        i = 0
        while i < len(order):
            j = i + 1
            while j < len(order) and j - i < self.batch_size:
                wmax = prepared[order[j]][0].shape[1]
                if (j - i + 1) * wmax * self.height > self.max_batch_pixels:
                    break
                j += 1
            batch = order[i:j]
            self._run_batch(batch, prepared, results)
            i = j
        return results  # type: ignore[return-value]

    def _run_batch(self, batch: list[int], prepared, results) -> None:
        wmax = max(prepared[k][0].shape[1] for k in batch)
        wpad = int(math.ceil(wmax / self.stride)) * self.stride
        x = np.ones((len(batch), 1, self.height, wpad), dtype=np.float32)
        for row, k in enumerate(batch):
            im = prepared[k][0]
            x[row, 0, :, : im.shape[1]] = (im.astype(np.float32) / 255.0 - 0.5) / 0.5
        probs = np.asarray(self.session.run(self.output_names, {self.input_name: x})[0], dtype=np.float32)
        steps_total = probs.shape[1]
        eff_stride = wpad / steps_total if steps_total else self.stride
        for row, k in enumerate(batch):
            im, scale = prepared[k]
            valid = int(math.ceil(im.shape[1] / eff_stride))
            r = ctc_greedy_decode(
                probs[row], self.charset, valid, eff_stride, self.corrector, self.pairer, self.words
            )
            inv = 1.0 / scale
            results[k] = RecognitionResult(
                r.text,
                r.confidence,
                r.char_confidences,
                [x_ * inv for x_ in r.char_x],
                [(a * inv, b * inv) for a, b in r.char_spans],
            )
