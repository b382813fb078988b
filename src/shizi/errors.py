"""Exceptions raised by shizi.

Every problem with a user's input (a file, bytes, an array, an image) is raised as
:class:`InputError`, which names the input (``.source``) and the problem (``.problem``).
Problems with installed models are :class:`ModelError`.
"""

from __future__ import annotations


class ShiziError(Exception):
    """Base class of all shizi errors."""


#: the stable kinds of :class:`InputError`, for programs (the service maps them to HTTP statuses)
INPUT_ERROR_KINDS = ("too_large", "unsupported", "broken", "encrypted", "empty", "not_a_file", "not_found",
                     "unreadable")


class InputError(ShiziError):
    """An input could not be read: unreadable, truncated, empty, unsupported, encrypted, too large.

    ``str(err)`` is ``"<source>: <problem>"``; ``kind`` is one of :data:`INPUT_ERROR_KINDS`, the problem
    for programs (``problem`` is for people and may change).
    """

    def __init__(self, source: str, problem: str, kind: str = "broken") -> None:
        if kind not in INPUT_ERROR_KINDS:
            raise ValueError(f"unknown InputError kind {kind!r}")
        self.source = str(source)
        self.problem = problem
        self.kind = kind
        super().__init__(f"{self.source}: {problem}")

    def __reduce__(self):  # keep picklable across processes
        return (self.__class__, (self.source, self.problem, self.kind))


class ModelError(ShiziError):
    """A model is missing, damaged (sha256 mismatch) or does not follow the model-folder contract."""
