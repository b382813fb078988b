"""Text for synthetic lines and pages.

Sources, all offline: jieba's word list with frequencies (real Chinese vocabulary, frequency-weighted),
an English word list (Debian ``wamerican`` when installed), uniform draws over the charset so that
rare characters are seen, and generators for numbers, dates, amounts, codes, paths and URLs.
Traditional text comes from OpenCC conversion. Evaluation text (the Debian zh documentation
packages) is never used.
"""

from __future__ import annotations

import os
import random
import string
from functools import lru_cache
from pathlib import Path

from shizi.synth.charset import build_charset

ZH_PUNCT_MID = "，，，、；：。"
ZH_PUNCT_END = "。！？；…"
ZH_PAIRS = ["“”", "《》", "（）", "【】", "‘’", "「」"]
EN_PUNCT = ",.;:!?"
# how technical Chinese text sets off terms, paths and options
ZH_WRAPS = ["“”", "“”", "「」", "《》", "（）", "【】", "‘’"]
EN_WRAPS = ['""', "''", "()", "[]", "``", "<>", "{}", "()", "`'"]  # `x' is man-page quoting
# ASCII and CJK punctuation drawn densely so that narrow glyphs are seen often
SYMBOLS = string.punctuation + string.punctuation + "，。、；：？！“”‘’（）《》【】—…·「」"
TLDS = ["com", "org", "net", "cn", "io", "edu.cn", "gov.cn", "com.cn"]
# share of lines set all in capitals (receipts, signs, plates, headings, units such as ALT or HGB) and in
# title case; word-level capitals alone make an all-capitals line of four words a 1-in-160,000 draw
LINE_CAPS = 0.15
LINE_TITLE = 0.05
_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


@lru_cache(maxsize=1)
def jieba_word_counts() -> tuple[list[str], list[int]]:
    """Han words of jieba's word list (all characters in the charset) and their raw frequencies."""
    import jieba

    charset = set(build_charset())
    path = os.path.join(os.path.dirname(jieba.__file__), "dict.txt")
    words, counts = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split(" ")
            if len(parts) < 2:
                continue
            w = parts[0]
            # jieba's list holds some mojibake and ASCII entries: keep clean Han words only
            if not all(c in charset and "\u4e00" <= c <= "\u9fff" for c in w):
                continue
            words.append(w)
            counts.append(int(parts[1]))
    return words, counts


@lru_cache(maxsize=1)
def _jieba_words() -> tuple[list[str], list[float]]:
    words, counts = jieba_word_counts()
    return words, [float(c) ** 0.6 for c in counts]


@lru_cache(maxsize=1)
def _english_words() -> list[str]:
    p = Path("/usr/share/dict/words")
    if p.exists():
        ws = [w.strip() for w in p.read_text(encoding="utf-8", errors="ignore").splitlines()]
        ws = [w for w in ws if w.isascii() and w.isalpha() and "'" not in w and 1 < len(w) < 14]
        if ws:
            return ws
    return ["data", "file", "system", "user", "root", "network", "server", "model", "text", "page"]


def corpus_summary() -> str:
    """One line naming the word lists found, for training logs: without Debian's ``wamerican``
    (``scripts/setup.sh --train``) English text falls back to ten words without failing."""
    en = _english_words()
    src = "/usr/share/dict/words" if len(en) > 10 else "built-in fallback; install wamerican"
    return f"corpus: {len(jieba_word_counts()[0])} jieba words, {len(en)} English words ({src})"


@lru_cache(maxsize=1)
def _han_chars() -> list[str]:
    return [c for c in build_charset() if "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf"]


@lru_cache(maxsize=1)
def _s2t():
    import opencc

    return opencc.OpenCC("s2t")


class TextSampler:
    """Draws text strings; deterministic for a given ``random.Random``."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.words, w = _jieba_words()
        # cumulative weights so that choices(k=...) is fast
        self.cum = []
        acc = 0.0
        for x in w:
            acc += x
            self.cum.append(acc)
        self.en = _english_words()
        self.han = _han_chars()
        self.charset = build_charset()
        # characters a fine-tune adds to a model, drawn in ``focus_share`` of the lines (focus_line)
        self.focus: list[str] | None = None
        self.focus_share = 0.0

    # --- pieces -------------------------------------------------------------------------------
    def zh_words(self, n: int) -> list[str]:
        return self.rng.choices(self.words, cum_weights=self.cum, k=n)

    def en_word(self) -> str:
        w = self.rng.choice(self.en)
        r = self.rng.random()
        return w.capitalize() if r < 0.2 else w.upper() if r < 0.25 else w

    def acronym(self) -> str:
        """Short capitals (ID, GUI, EFI, PCI-E): I beside other capitals is easily dropped."""
        g = self.rng
        caps = "".join(g.choice(string.ascii_uppercase + "IIIO") for _ in range(g.randint(2, 4)))
        if g.random() < 0.2:
            caps += g.choice(["-", "/", " "]) + "".join(g.choice(string.ascii_uppercase) for _ in range(2))
        return caps

    def number(self) -> str:
        r, g = self.rng.random(), self.rng
        if r < 0.25:
            return str(g.randint(0, 10 ** g.randint(1, 7)))
        if r < 0.45:
            return f"{g.uniform(0, 10 ** g.randint(1, 6)):,.2f}"
        if r < 0.6:
            return f"{g.randint(1950, 2035)}年{g.randint(1, 12)}月{g.randint(1, 28)}日"
        if r < 0.7:
            return f"{g.randint(1990, 2035)}-{g.randint(1, 12):02d}-{g.randint(1, 28):02d}"
        if r < 0.8:
            return f"{g.randint(0, 23):02d}:{g.randint(0, 59):02d}"
        if r < 0.9:
            return f"{g.uniform(0, 100):.{g.randint(0, 2)}f}%"
        return g.choice(["￥", "$", "€", "£", "¥"]) + f"{g.uniform(0, 99999):.2f}"

    def code(self) -> str:
        g = self.rng
        r = g.random()
        if r < 0.3:
            parts = [g.choice(self.en).lower() for _ in range(g.randint(1, 4))]
            return "/" + "/".join(parts) + g.choice(["", ".conf", ".txt", ".gz", ".py", ".html", "/"])
        if r < 0.55:
            host = ".".join(g.choice(self.en).lower() for _ in range(g.randint(1, 2)))
            path = "/".join(g.choice(self.en).lower() for _ in range(g.randint(0, 2)))
            return f"{g.choice(['http', 'https'])}://{g.choice(['', 'www.'])}{host}.{g.choice(TLDS)}/{path}"
        if r < 0.7:
            return f"{g.choice(self.en).lower()}@{g.choice(self.en).lower()}.{g.choice(TLDS)}"
        if r < 0.85:
            alphabet = string.ascii_uppercase + string.digits
            return "".join(g.choice(alphabet) for _ in range(g.randint(4, 12)))
        opts = ["-" + g.choice(string.ascii_letters), "--" + g.choice(self.en).lower()]
        return f"{g.choice(self.en).lower()} {g.choice(opts)} {g.choice(self.en).lower()}"

    def option(self) -> str:
        """Command-line and programming fragments: dense in narrow glyphs and ASCII punctuation."""
        g = self.rng
        w = g.choice(self.en).lower()
        v = g.choice(self.en).lower()
        forms = [
            f"--{w}={v}",
            f"-{g.choice(string.ascii_letters)}",
            f"~/.{w}",
            f"${w.upper()}",
            f"{w}({v})",
            f"{w}_{v}",
            f"{w}-{v}",
            f"[{g.choice(['a-z', '0-9', 'A-Z', w])}]",
            f"{w}: {v}",
            f"{w}.{v}",
            f"{g.randint(0, 9)}.{g.randint(0, 20)}.{g.randint(0, 30)}",
            ".".join(str(g.randint(1, 12)) for _ in range(g.randint(1, 4))) + ".",
            f"<{w}>",
            f"'{w}'",
            f"\"{w}\"",
            f"{w}/{v}",
            f"{w}|{v}",
            f"#{w}",
            f"{w}@{v}",
            f"{w};",
            f"{w}!",
            f"{w} && {v}",
            f"{w}.{g.choice(['conf', 'list', 'd', 'sh', 'log', 'deb', 'gz'])}",
        ]
        return g.choice(forms)

    def term(self) -> str:
        """An English word, acronym, symbol, number, path or option as it stands inside Chinese
        technical prose."""
        r = self.rng.random()
        if r < 0.25:
            return self.en_word()
        if r < 0.35:
            return self.acronym()
        if r < 0.42:  # a lone symbol, as in 以“/”开始 or `*'
            return self.rng.choice(string.punctuation)
        if r < 0.6:
            return self.option()
        if r < 0.85:
            return self.code()
        return self.number()

    # --- whole strings -----------------------------------------------------------------------
    def zh_sentence(self, max_chars: int) -> str:
        g = self.rng
        out: list[str] = []
        n = 0
        while n < max_chars:
            r = g.random()
            if r < 0.78:
                piece = "".join(self.zh_words(g.randint(1, 4)))
            elif r < 0.84:
                piece = self.number()
            elif r < 0.9:
                piece = (" " if g.random() < 0.5 else "") + self.en_word() + (" " if g.random() < 0.5 else "")
            elif r < 0.94:
                piece = self.code()
            else:
                pair = g.choice(ZH_PAIRS)
                piece = pair[0] + "".join(self.zh_words(g.randint(1, 3))) + pair[1]
            out.append(piece)
            n += len(piece)
            if g.random() < 0.3:
                out.append(g.choice(ZH_PUNCT_MID))
                n += 1
        s = "".join(out)
        s = s[:max_chars].strip()
        if g.random() < 0.3 and len(s) < max_chars:
            s += g.choice(ZH_PUNCT_END)
        return s

    def tech_sentence(self, max_chars: int) -> str:
        """Chinese technical prose: terms in quotes or brackets, section numbers, dense punctuation."""
        g = self.rng
        out: list[str] = []
        if g.random() < 0.15:
            out.append(".".join(str(g.randint(1, 12)) for _ in range(g.randint(1, 4))) + ". ")
        n = sum(map(len, out))
        while n < max_chars:
            if g.random() < 0.5:
                piece = "".join(self.zh_words(g.randint(1, 3)))
            else:
                piece = self.term()
                zh_wrap = g.random() < 0.3
                if zh_wrap or g.random() < 0.4:
                    pair = g.choice(ZH_WRAPS if zh_wrap else EN_WRAPS)
                    piece = pair[0] + piece + pair[1]
                if not zh_wrap and g.random() < 0.5:  # until stage 12 never: spaced Latin beside Han
                    piece = f" {piece} "
            out.append(piece)
            n += len(piece)
            if g.random() < 0.35:
                out[-1] = out[-1].rstrip()  # no space before punctuation
                out.append(g.choice(ZH_PUNCT_MID + EN_PUNCT))
                n += 1
        s = "".join(out)[:max_chars].strip()
        if g.random() < 0.4 and len(s) < max_chars:
            s += g.choice(ZH_PUNCT_END + "。.:：")
        return s

    def en_sentence(self, max_chars: int) -> str:
        g = self.rng
        words: list[str] = []
        while sum(len(w) + 1 for w in words) < max_chars:
            r = g.random()
            if r < 0.75:
                w = self.en_word()
            elif r < 0.85:
                w = self.number()
            else:
                w = self.option() if r < 0.93 else self.code()
            if g.random() < 0.08:
                pair = g.choice(EN_WRAPS)
                w = pair[0] + w + pair[1]
            if g.random() < 0.15:
                w += g.choice(EN_PUNCT)
            words.append(w)
        return " ".join(words)[:max_chars].strip()

    def random_chars(self, n: int) -> str:
        g = self.rng
        r = g.random()
        if r < 0.6:
            return "".join(g.choice(self.han) for _ in range(n))
        if r < 0.75:  # symbol-dense: narrow glyphs side by side
            pool = SYMBOLS + string.ascii_letters + string.digits
            return "".join(g.choice(pool) for _ in range(n)).strip()
        return "".join(g.choice(self.charset) for _ in range(n)).strip()

    def focus_line(self, n: int) -> str:
        """``n`` characters: :attr:`focus` characters, one or two at a time, between common words."""
        g, out = self.rng, ""
        while len(out) < n:
            if g.random() < 0.5:
                out += "".join(g.choice(self.focus) for _ in range(g.randint(1, 2)))  # type: ignore[arg-type]
            else:
                out += "".join(self.zh_words(1))
        return out[:n]

    def line(self, min_chars: int = 1, max_chars: int = 24) -> str:
        """One line of text of the training mix."""
        g = self.rng
        n = g.randint(min_chars, max_chars)
        if self.focus and g.random() < self.focus_share:
            return self.focus_line(n)
        r = g.random()
        if r < 0.40:
            s = self.zh_sentence(n)
            if g.random() < 0.15:
                s = _s2t().convert(s)
        elif r < 0.66:  # 0.16 until stage 10: Latin and ASCII punctuation in Chinese prose err most
            s = self.tech_sentence(n)
        elif r < 0.80:
            s = self.random_chars(n)
        elif r < 0.90:
            s = self.en_sentence(max(n, 4))
        else:
            s = " ".join(self.number() if g.random() < 0.6 else self.code() for _ in range(g.randint(1, 3)))
            s = s[: max(n, 6)]
        s = self.letter_case(s)
        if g.random() < 0.05:  # full-width ASCII, as in some Chinese typesetting
            s = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)
        s = " ".join(s.split())
        return s or self.random_chars(max(1, n))

    def letter_case(self, s: str) -> str:
        """``s`` as drawn, or its ASCII letters all in capitals (:data:`LINE_CAPS`) or each word's
        first letter a capital (:data:`LINE_TITLE`)."""
        r = self.rng.random()
        if r < LINE_CAPS:
            return s.translate(_UPPER)
        if r < LINE_CAPS + LINE_TITLE:
            return " ".join(w[:1].translate(_UPPER) + w[1:] for w in s.split(" "))
        return s

    def paragraph(self, n_chars: int) -> str:
        """Running text for pages: mostly Chinese prose-like with mixed English."""
        if self.rng.random() < 0.12:
            return self.letter_case(self.en_sentence(n_chars))
        s = self.zh_sentence(n_chars)
        if self.rng.random() < 0.1:
            s = _s2t().convert(s)
        return s
