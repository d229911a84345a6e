"""Reading pages the way a user sees them: parsed HTML, visible text."""

from __future__ import annotations

import io
import re

from bs4 import BeautifulSoup
from PIL import Image


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def visible_text(node) -> str:
    for bad in node.find_all(["script", "style"]):
        bad.decompose()
    return re.sub(r"\s+", " ", node.get_text(" ")).strip()


def errors(response) -> list[str]:
    return [visible_text(e) for e in soup(response).select(".error")]


def jpeg(width: int = 640, height: int = 480, color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="JPEG", quality=85)
    return out.getvalue()
