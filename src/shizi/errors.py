"""Exceptions raised by shizi.

Every problem with a user's input (a file, bytes, an array, an image) is raised as
:class:`InputError`, which names the input (``.source``) and the problem (``.problem``).
Problems with installed models are :class:`ModelError`.
"""

from __future__ import annotations


class ShiziError(Exception):
    """Base class of all shizi errors."""


class InputError(ShiziError):
    """An input could not be read: unreadable, truncated, empty, unsupported, encrypted, too large.

    ``str(err)`` is ``"<source>: <problem>"``.
    """

    def __init__(self, source: str, problem: str) -> None:
        self.source = str(source)
        self.problem = problem
        super().__init__(f"{self.source}: {problem}")

    def __reduce__(self):  # keep picklable across processes
        return (self.__class__, (self.source, self.problem))


class ModelError(ShiziError):
    """A model is missing, damaged (sha256 mismatch) or does not follow the model-folder contract."""
