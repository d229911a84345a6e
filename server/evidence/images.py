"""Checking uploaded images by content and making thumbnails. Pure: bytes in, bytes out."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
THUMB_EDGE = 400


class ImageRejected(ValueError):
    """The upload is not an acceptable photo; the message is for the user."""


@dataclass(frozen=True)
class CheckedImage:
    sha256: str
    content_type: str
    extension: str
    width: int
    height: int
    size: int


def check_image(data: bytes, max_bytes: int, max_pixels: int) -> CheckedImage:
    if not data:
        raise ImageRejected("文件为空，请重新拍照")
    if len(data) > max_bytes:
        raise ImageRejected(f"照片过大（{len(data) / 1048576:.1f} MB），上限 {max_bytes // 1048576} MB")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            width, height = probe.size
            if fmt not in ALLOWED:
                raise ImageRejected("只接受 JPEG、PNG 或 WebP 格式的照片")
            if width * height > max_pixels:
                raise ImageRejected(f"照片像素过多（{width}×{height}），请降低分辨率后重试")
            probe.verify()
        with Image.open(io.BytesIO(data)) as full:
            full.load()  # verify() does not decode pixel data; a truncated file fails here
    except ImageRejected:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ImageRejected("文件不是有效的图片，或图片已损坏") from None
    content_type, ext = ALLOWED[fmt]
    return CheckedImage(hashlib.sha256(data).hexdigest(), content_type, ext, width, height, len(data))


def thumbnail(data: bytes, edge: int = THUMB_EDGE) -> bytes:
    """A JPEG thumbnail, turned upright by the EXIF orientation. The original is untouched."""
    with Image.open(io.BytesIO(data)) as img:
        img = ImageOps.exif_transpose(img)
        img.thumbnail((edge, edge))
        if img.mode not in ("RGB", "L"):
            img = img.convert("RGB")
        out = io.BytesIO()
        img.save(out, format="JPEG", quality=80, optimize=True)
        return out.getvalue()
