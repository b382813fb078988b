"""Finding a CJK font on the system (Debian fonts-wqy-microhei / fonts-noto-cjk / fonts-droid-fallback)."""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

# TrueType-outline fonts first: reportlab can embed (subset) only TrueType outlines, not CFF (.otf).
_TRUETYPE_CANDIDATES = [
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf",
]
_ANY_CANDIDATES = _TRUETYPE_CANDIDATES + [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
]


@functools.lru_cache(maxsize=4)
def find_cjk_font(truetype_only: bool = False) -> str | None:
    """Path of a font covering Chinese, or None. ``truetype_only``: skip CFF/OpenType fonts."""
    for p in _TRUETYPE_CANDIDATES if truetype_only else _ANY_CANDIDATES:
        if Path(p).is_file():
            return p
    if shutil.which("fc-list"):
        spec = ":lang=zh:fontformat=TrueType" if truetype_only else ":lang=zh"
        try:
            out = subprocess.run(["fc-list", spec, "file"], capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        files = sorted(line.split(":")[0].strip() for line in out.splitlines() if line.strip())
        for f in files:
            if Path(f).is_file() and (not truetype_only or f.lower().endswith((".ttf", ".ttc"))):
                return f
    return None
