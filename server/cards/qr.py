"""QR codes and card images: make them, and read them back from a photo. Pure (bytes in/out).

Error correction: level M (15 %). The code is printed about 25 mm wide and photographed by
a phone, where the usual failure is too few camera pixels per module (blur, distance), not
damage. A higher level would need a larger QR version for the same ~120-character URL
(M: version 6–8, Q: version 8–10), i.e. smaller modules in the same 25 mm; M keeps a module
near 0.5 mm and still survives scuffs and glare on a laminated card.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import qrcode
import qrcode.image.svg
from markupsafe import Markup
from PIL import Image, ImageDraw, ImageFont, ImageOps

ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M
QUIET_ZONE = 4  # modules, as the standard asks

# A printed card: CR80, 85.6 × 54 mm, rendered at 300 dpi.
DPI = 300
CARD_MM = (85.6, 54.0)
QR_MM = 25.0


def mm(value: float, dpi: int = DPI) -> int:
    return round(value / 25.4 * dpi)


def _qr(data: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=QUIET_ZONE)
    code.add_data(data)
    code.make(fit=True)
    return code


def qr_version(data: str) -> int:
    return _qr(data).version


def qr_svg(data: str) -> Markup:
    """An inline <svg> (a single path, crisp at any print size); size it with CSS."""
    image = _qr(data).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    svg = image.to_string(encoding="unicode")
    if svg.startswith("<?xml"):
        svg = svg.split("?>", 1)[1]
    return Markup(svg.replace("<svg ", '<svg role="img" aria-label="保安员证二维码" ', 1))


def qr_image(data: str, size_px: int) -> Image.Image:
    """The QR (with its quiet zone) as a 1-bit image of exactly size_px × size_px."""
    matrix = _qr(data).get_matrix()  # includes the border
    n = len(matrix)
    small = Image.new("1", (n, n), 1)
    small.putdata([0 if cell else 1 for row in matrix for cell in row])
    return small.resize((size_px, size_px), Image.NEAREST)


def qr_png(data: str, size_px: int = 600) -> bytes:
    out = io.BytesIO()
    qr_image(data, size_px).save(out, format="PNG")
    return out.getvalue()


# ---------------------------------------------------------------- the card as an image

_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A CJK font when the machine has one (Debian: fonts-noto-cjk); else Pillow's own, which
    draws Chinese as boxes but keeps the QR and the certificate number readable."""
    for path in _FONT_CANDIDATES:
        if Path(path).exists():
            try:
                # In the Noto CJK collection face 2 is Simplified Chinese; other files: the first.
                return ImageFont.truetype(path, size, index=2 if "NotoSansCJK" in path else 0)
            except OSError:
                continue
    return ImageFont.load_default(size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int, lines: int) -> list[str]:
    out, line = [], ""
    for ch in text:
        if draw.textlength(line + ch, font=font) > width and line:
            out.append(line)
            line = ch
            if len(out) == lines:
                break
        else:
            line += ch
    if line and len(out) < lines:
        out.append(line)
    return out


def card_image(*, url: str, name: str, certificate_no: str, employer: str, serial: int,
               issued_on: str, portrait: bytes | None = None, dpi: int = DPI) -> Image.Image:
    """One CR80 card at `dpi`: title band, portrait, name, certificate number, employer and
    the 25 mm QR code."""
    w, h = mm(CARD_MM[0], dpi), mm(CARD_MM[1], dpi)
    img = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(img)
    band = mm(7, dpi)
    draw.rectangle((0, 0, w, band), fill=(11, 61, 145))
    draw.text((mm(4, dpi), band // 2), "保安员证 · 现场核验卡", font=_font(mm(3.6, dpi)),
              fill="white", anchor="lm")
    pad = mm(3, dpi)
    # Portrait, 20 × 26 mm.
    pw, ph = mm(20, dpi), mm(26, dpi)
    box = (pad, band + pad, pad + pw, band + pad + ph)
    if portrait:
        with Image.open(io.BytesIO(portrait)) as p:
            p = ImageOps.exif_transpose(p).convert("RGB")
            img.paste(ImageOps.fit(p, (pw, ph)), box[:2])
    else:
        draw.rectangle(box, outline=(150, 150, 150), width=3)
        draw.text(((box[0] + box[2]) // 2, (box[1] + box[3]) // 2), "无照片", font=_font(mm(3, dpi)),
                  fill=(150, 150, 150), anchor="mm")
    # QR, 25 mm square, bottom right.
    q = mm(QR_MM, dpi)
    qx, qy = w - q - mm(1.5, dpi), h - q - mm(1.5, dpi)
    img.paste(qr_image(url, q).convert("RGB"), (qx, qy))
    # Text between portrait and QR.
    tx = box[2] + mm(2.5, dpi)
    tw = qx - tx - mm(1, dpi)
    y = band + pad
    draw.text((tx, y), name, font=_font(mm(5.5, dpi)), fill="black")
    y += mm(8, dpi)
    small = _font(mm(2.8, dpi))
    for label_, value in (("证号", certificate_no), ("单位", employer)):
        draw.text((tx, y), label_, font=small, fill=(95, 102, 112))
        y += mm(3.6, dpi)
        for line in _wrap(draw, value, small, tw, 3):
            draw.text((tx, y), line, font=small, fill="black")
            y += mm(3.6, dpi)
        y += mm(1, dpi)
    draw.text((pad, h - mm(3, dpi)), f"卡号 {serial} · {issued_on}", font=_font(mm(2.4, dpi)),
              fill=(95, 102, 112), anchor="lm")
    return img


def png_bytes(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, format="PNG", dpi=(DPI, DPI), optimize=True)
    return out.getvalue()


# ---------------------------------------------------------------- reading a photo

def decode_photo(data: bytes) -> list[str]:
    """The texts of the QR codes found in a photo (e.g. of a guard card), best first.
    The caller checks the bytes with evidence.images.check_image first (size, pixel limit)."""
    import zxingcpp

    with Image.open(io.BytesIO(data)) as img:
        img = ImageOps.exif_transpose(img)
        gray = img.convert("L")
        found = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)
        if not found and max(gray.size) > 2000:  # very large photos: try a smaller copy too
            gray.thumbnail((1600, 1600))
            found = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)
    return [b.text for b in found if b.valid and b.text]
