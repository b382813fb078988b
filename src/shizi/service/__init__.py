"""HTTP service and web page (``shizi serve``): see :mod:`shizi.service.app`. Needs the ``[serve]`` extra."""

from __future__ import annotations


def create_app(*args, **kwargs):
    """Build the FastAPI app (see :func:`shizi.service.app.create_app`)."""
    from .app import create_app as _create_app

    return _create_app(*args, **kwargs)


__all__ = ["create_app"]
