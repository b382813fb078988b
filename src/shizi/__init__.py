"""shizi (识字): offline OCR for Chinese and English.

    >>> import shizi
    >>> doc = shizi.Reader().read("page.png")   # uses the installed default models
    >>> print(doc.text())

Importing shizi or reading a page never imports torch.
"""

from __future__ import annotations

from .document import Block, Char, Document, Line, Page, Word
from .errors import InputError, ModelError, ShiziError

__version__ = "0.1.0"


def __getattr__(name: str):
    # Reader pulls in onnxruntime/OpenCV: import lazily so `import shizi` stays light.
    if name == "Reader":
        from .reader import Reader

        return Reader
    if name in ("list_models", "load_model"):
        from . import models

        return getattr(models, name)
    raise AttributeError(f"module 'shizi' has no attribute {name!r}")


__all__ = [
    "Reader",
    "Document",
    "Page",
    "Block",
    "Line",
    "Word",
    "Char",
    "ShiziError",
    "InputError",
    "ModelError",
    "list_models",
    "load_model",
    "__version__",
]
