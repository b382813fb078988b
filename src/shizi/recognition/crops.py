"""Line crops: perspective rectification of a line polygon to an axis-aligned image."""

from __future__ import annotations

import cv2
import numpy as np


def quad_of(polygon: np.ndarray) -> np.ndarray:
    """A 4-point quad (tl, tr, br, bl) for a polygon: itself if it has 4 points, else its min-area rect."""
    from ..detection.db import order_quad

    pts = np.asarray(polygon, dtype=np.float32).reshape(-1, 2)
    if len(pts) == 4:
        q = order_quad(pts)
        # keep the given order when it is already a valid clockwise quad from top-left
        return q
    return order_quad(cv2.boxPoints(cv2.minAreaRect(pts)))


def rectify_quad(image: np.ndarray, quad: np.ndarray, pad: float = 0.08) -> tuple[np.ndarray, np.ndarray]:
    """Warp ``quad`` (tl, tr, br, bl) of ``image`` to an upright crop,
    padded by ``pad`` × height above and below.

    Returns ``(crop, M_inv)`` where ``M_inv`` maps crop pixels back to page pixels (3x3 homography).
    """
    q = np.asarray(quad, dtype=np.float32).reshape(4, 2)
    tl, tr, br, bl = q
    w = max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))
    h = max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))
    w_i, h_i = max(1, int(round(w))), max(1, int(round(h)))
    p = pad * h_i
    out_h = max(1, int(round(h_i + 2 * p)))
    dst = np.array([[0, p], [w_i, p], [w_i, p + h_i], [0, p + h_i]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(q, dst)
    crop = cv2.warpPerspective(
        image, m, (w_i, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return crop, np.linalg.inv(m)


def crop_line(image: np.ndarray, polygon: np.ndarray, pad: float = 0.08) -> tuple[np.ndarray, np.ndarray]:
    """Rectified crop of a line polygon (see :func:`rectify_quad`)."""
    return rectify_quad(image, quad_of(polygon), pad)


def map_points(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Apply homography ``m`` to points ``(N, 2)``."""
    pts = np.asarray(pts, dtype=np.float64).reshape(-1, 1, 2)
    return cv2.perspectiveTransform(pts, m).reshape(-1, 2)
