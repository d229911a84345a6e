"""The app icon, drawn by the project: a shield with a check mark. Pure: size in, PNG out."""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageDraw

BLUE = (11, 61, 145)
WHITE = (255, 255, 255)


@lru_cache(maxsize=4)
def icon_png(size: int, maskable: bool = False) -> bytes:
    scale = 4  # draw large, then downsample for smooth edges
    s = size * scale
    img = Image.new("RGB", (s, s), BLUE)
    d = ImageDraw.Draw(img)
    inset = 0.22 if maskable else 0.14  # maskable icons keep the shape inside the safe zone
    left, right, top, bottom = s * inset, s * (1 - inset), s * inset, s * (1 - inset * 0.8)
    mid = s / 2
    shield = [(left, top + s * 0.06), (mid, top), (right, top + s * 0.06),
              (right, top + (bottom - top) * 0.5), (mid, bottom), (left, top + (bottom - top) * 0.5)]
    d.polygon(shield, fill=WHITE)
    w = int(s * 0.07)
    check = [(mid - s * 0.17, mid + s * 0.01), (mid - s * 0.04, mid + s * 0.13), (mid + s * 0.19, mid - s * 0.13)]
    d.line(check, fill=BLUE, width=w, joint="curve")
    img = img.resize((size, size), Image.LANCZOS)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()
