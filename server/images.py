"""Checking uploaded images by content and making thumbnails (floor 0: photos, portraits, clue
attachments and card pictures all go through it). Pure: bytes in, bytes out."""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass

from anyio import to_thread
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


def _draft(img: Image.Image, edge: int) -> None:
    """Have a JPEG decode at 1/2, 1/4 or 1/8 size (libjpeg's DCT scaling) as far as the result
    still covers a thumbnail of `edge` px on the long side; other formats are unaffected.
    Every byte of the compressed data is still read and entropy-decoded, so a truncated or
    corrupt file fails just as in a full-size decode; only the inverse DCT and the colour
    conversion work on fewer pixels, and the thumbnail needs less resampling."""
    w, h = img.size
    k = edge / max(w, h, 1)
    if k < 1:
        img.draft(None, (max(1, math.ceil(w * k)), max(1, math.ceil(h * k))))


def _checked(data: bytes, max_bytes: int, max_pixels: int, edge: int) -> tuple[CheckedImage, Image.Image]:
    """Check the upload by its content and decode it once, completely (see _draft); return
    the facts and the decoded image."""
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
            probe.verify()  # PNG chunk checksums; JPEG and WebP are checked by the decode below
        img = Image.open(io.BytesIO(data))
        _draft(img, edge)
        img.load()  # decodes all the data: a truncated or corrupt file fails here
    except ImageRejected:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ImageRejected("文件不是有效的图片，或图片已损坏") from None
    content_type, ext = ALLOWED[fmt]
    checked = CheckedImage(hashlib.sha256(data).hexdigest(), content_type, ext, width, height, len(data))
    return checked, img


def check_image(data: bytes, max_bytes: int, max_pixels: int) -> CheckedImage:
    """Size, format, pixel count and a complete decode; the user's message if any fails."""
    checked, img = _checked(data, max_bytes, max_pixels, 1)
    img.close()
    return checked


def _thumbnail(img: Image.Image, edge: int) -> bytes:
    img.thumbnail((edge, edge))
    img = ImageOps.exif_transpose(img)  # upright as seen; turning the small image is cheap
    if img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=80, optimize=True)
    return out.getvalue()


def thumbnail(data: bytes, edge: int = THUMB_EDGE) -> bytes:
    """A JPEG thumbnail, turned upright by the EXIF orientation. The original is untouched."""
    with Image.open(io.BytesIO(data)) as img:
        _draft(img, edge)
        return _thumbnail(img, edge)


def check_and_thumbnail(data: bytes, max_bytes: int, max_pixels: int,
                        edge: int = THUMB_EDGE) -> tuple[CheckedImage, bytes]:
    """check_image and thumbnail with one decode: what an upload of a photo needs."""
    checked, img = _checked(data, max_bytes, max_pixels, edge)
    with img:
        return checked, _thumbnail(img, edge)


async def check_photos(photos: list[bytes], max_bytes: int, max_pixels: int, *, thumbnails: bool
                       ) -> tuple[list, str]:
    """The photos of one form, each checked off the event loop (with its thumbnail when asked:
    check_and_thumbnail, else check_image). Returns what was checked and, when one is refused,
    the message for the form's photo field naming which (then the list stops there)."""
    check = check_and_thumbnail if thumbnails else check_image
    checked = []
    for n, data in enumerate(photos, start=1):
        try:
            checked.append(await to_thread.run_sync(check, data, max_bytes, max_pixels))
        except ImageRejected as exc:
            return checked, f"第 {n} 张照片：{exc}"
    return checked, ""
