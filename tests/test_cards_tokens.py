"""Card tokens, verdicts and QR images: pure, no server. A printed card "photographed"
(scaled, rotated, blurred, noisy, low-quality JPEG) must decode with zxing-cpp."""

from __future__ import annotations

import base64
import io
import random

import pytest
from PIL import Image, ImageDraw, ImageFilter

from server.cards import qr, tokens
from server.cards.verdict import CardFacts, CardState, card_verdict
from server.vocab import CardVerdict, CertStatus, EmploymentStatus

KEY = tokens.private_key("11" * 32)
OTHER_KEY = tokens.private_key("22" * 32)
PUB = KEY.public_key()


def test_token_round_trip_and_is_short():
    token = tokens.sign(KEY, 123, 1)
    assert tokens.verify(PUB, token) == tokens.Decoded(tokens.TokenStatus.ok, 123, 1)
    assert len(token) == 90  # 3 payload bytes + 64 signature bytes, base64url without padding
    big = tokens.sign(KEY, 2_000_000, 300)
    assert tokens.verify(PUB, big).guard_id == 2_000_000 and tokens.verify(PUB, big).serial == 300
    url = tokens.card_url("https://inspect.example.org/", token)
    assert url == "https://inspect.example.org/c/" + token
    assert qr.qr_version(url) <= 8


def _flip(token: str, index: int, mask: int = 0x01) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[index] ^= mask
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


def test_altered_payload_or_signature_is_refused():
    token = tokens.sign(KEY, 123, 1)
    assert tokens.verify(PUB, _flip(token, 1)).status == tokens.TokenStatus.bad_signature  # guard id 123 → 122
    assert tokens.verify(PUB, _flip(token, 2, 0x02)).status == tokens.TokenStatus.bad_signature  # serial 1 → 3
    assert tokens.verify(PUB, _flip(token, 2)).status == tokens.TokenStatus.malformed  # serial 0 is no serial
    assert tokens.verify(PUB, _flip(token, 40)).status == tokens.TokenStatus.bad_signature
    # Re-signing another guard's id with someone else's key is a forgery.
    assert tokens.verify(PUB, tokens.sign(OTHER_KEY, 123, 1)).status == tokens.TokenStatus.bad_signature


def test_the_servers_check_with_its_own_key_agrees_with_the_public_key():
    token = tokens.sign(KEY, 123, 1)
    texts = [token, tokens.sign(KEY, 2_000_000, 300), _flip(token, 1), _flip(token, 2, 0x02), _flip(token, 2),
             _flip(token, 40), _flip(token, 66, 0x80), tokens.sign(OTHER_KEY, 123, 1), "", "A" * 90, token[:-4]]
    for text in texts:
        assert tokens.verify_own(KEY, text) == tokens.verify(PUB, text)
    assert tokens.verify_own(KEY, token).ok and not tokens.verify_own(OTHER_KEY, token).ok


def test_the_hash_kept_of_a_token_names_that_token_under_that_key():
    token = tokens.sign(KEY, 123, 1)
    kept = tokens.token_hash(KEY, token)
    assert len(kept) == 64 and kept == tokens.token_hash(KEY, token)
    others = {tokens.token_hash(KEY, tokens.sign(KEY, 123, 2)), tokens.token_hash(KEY, _flip(token, 40)),
              tokens.token_hash(KEY, tokens.sign(OTHER_KEY, 123, 1)), tokens.token_hash(OTHER_KEY, token)}
    assert kept not in others and len(others) == 4
    assert tokens.decode(token) == tokens.verify(PUB, token)  # what it names, signature unchecked …
    assert tokens.decode(_flip(token, 40)) == tokens.Decoded(tokens.TokenStatus.ok, 123, 1)  # … whoever signed
    assert tokens.decode(_flip(token, 2)).status == tokens.TokenStatus.malformed


@pytest.mark.parametrize("text", ["", "hello", "A" * 90, "津保120200000001", tokens.sign(KEY, 1, 1)[:-4],
                                  tokens.sign(KEY, 1, 1) + "AAAA"])
def test_malformed_tokens_are_not_tokens(text):
    assert tokens.verify(PUB, text).status in (tokens.TokenStatus.malformed, tokens.TokenStatus.bad_signature)
    assert not tokens.verify(PUB, text).ok


def test_token_is_found_in_any_card_url():
    token = tokens.sign(KEY, 5, 2)
    for text in (f"https://a.example/c/{token}", f"http://10.0.0.1:8000/c/{token}?from=wechat",
                 f" {token} ", f"HTTPS://X/c/{token}#x"):
        assert tokens.verify(PUB, tokens.token_from_text(text)).guard_id == 5


def test_bad_signing_key_setting_is_explained():
    with pytest.raises(ValueError, match="64 hex"):
        tokens.private_key("not-hex")
    with pytest.raises(ValueError, match="64 hex"):
        tokens.private_key("ab" * 16)


def test_public_key_is_32_raw_bytes():
    raw = base64.urlsafe_b64decode(tokens.public_key_b64(KEY) + "=")
    assert len(raw) == 32


# ---------------------------------------------------------------- verdicts

OK = tokens.TokenStatus.ok
CURRENT = CardState.current


@pytest.mark.parametrize("facts, sites, verdict", [
    (CardFacts(tokens.TokenStatus.malformed), None, CardVerdict.unrecognised),
    (CardFacts(tokens.TokenStatus.bad_signature), None, CardVerdict.unrecognised),
    (CardFacts(OK, CardState.unknown), None, CardVerdict.unrecognised),
    (CardFacts(OK, CardState.superseded, CertStatus.valid, EmploymentStatus.active, 1), None, CardVerdict.revoked),
    (CardFacts(OK, CURRENT, CertStatus.revoked, EmploymentStatus.active, 1), None, CardVerdict.revoked),
    (CardFacts(OK, CURRENT, CertStatus.none, EmploymentStatus.active, 1), None, CardVerdict.no_certificate),
    (CardFacts(OK, CURRENT, CertStatus.valid, EmploymentStatus.left, 1), None, CardVerdict.other_unit),
    (CardFacts(OK, CURRENT, CertStatus.valid, EmploymentStatus.active, 1), {2, 3}, CardVerdict.other_unit),
    (CardFacts(OK, CURRENT, CertStatus.valid, EmploymentStatus.active, 1), {1, 3}, CardVerdict.valid),
    (CardFacts(OK, CURRENT, CertStatus.valid, EmploymentStatus.active, 1), None, CardVerdict.valid),
])
def test_card_verdicts(facts, sites, verdict):
    got, reason = card_verdict(facts, sites)
    assert got == verdict.value and type(got) is str
    assert reason  # always a Chinese explanation for the banner


# ---------------------------------------------------------------- printed and photographed

def _photograph(card: Image.Image, *, width: int, angle: float, seed: int, quality: int) -> bytes:
    """A phone photo of a card lying on a desk: scaled, rotated, a little blurred, noisy,
    unevenly lit, saved as a low-quality JPEG."""
    rnd = random.Random(seed)
    scaled = card.resize((width, round(width * card.height / card.width)), Image.LANCZOS)
    turned = scaled.rotate(angle, expand=True, resample=Image.BICUBIC, fillcolor=(110, 100, 90))
    scene = Image.new("RGB", (turned.width + 300, turned.height + 240), (110, 100, 90))
    scene.paste(turned, (150 + rnd.randrange(-40, 40), 120 + rnd.randrange(-40, 40)))
    shade = Image.new("L", scene.size)
    ImageDraw.Draw(shade).rectangle((0, 0, scene.width // 2, scene.height), fill=40)
    scene = Image.composite(Image.new("RGB", scene.size, (0, 0, 0)), scene, shade)
    scene = scene.filter(ImageFilter.GaussianBlur(0.8))
    px = scene.load()
    for _ in range(scene.width * scene.height // 40):
        x, y = rnd.randrange(scene.width), rnd.randrange(scene.height)
        r, g, b = px[x, y]
        d = rnd.randrange(-60, 60)
        px[x, y] = (max(0, min(255, r + d)), max(0, min(255, g + d)), max(0, min(255, b + d)))
    out = io.BytesIO()
    scene.save(out, format="JPEG", quality=quality)
    return out.getvalue()


@pytest.mark.parametrize("width, angle, quality", [
    (560, 0, 60),     # card ~560 px wide: ~0.5 mm QR modules at ~2.6 px each
    (700, 12, 40),
    (900, -35, 50),
    (1400, 90, 70),
    (620, 180, 35),
])
def test_printed_card_photographed_by_a_phone_decodes(width, angle, quality):
    token = tokens.sign(KEY, 4321, 3)
    url = tokens.card_url("https://inspect.jizhou.example.gov.cn", token)
    card = qr.card_image(url=url, name="张伟", certificate_no="津保120200000001",
                         employer="蓟州区安泰保安服务有限公司", serial=3, issued_on="2020-12-20")
    assert card.size == (1011, 638)  # CR80 at 300 dpi
    photo = _photograph(card, width=width, angle=angle, seed=width, quality=quality)
    found = qr.decode_photo(photo)
    assert found == [url]
    assert tokens.verify(PUB, tokens.token_from_text(found[0])) == tokens.Decoded(OK, 4321, 3)


def test_a_photo_without_a_code_decodes_to_nothing():
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (90, 90, 90)).save(out, format="JPEG")
    assert qr.decode_photo(out.getvalue()) == []


def test_qr_svg_is_inline_markup():
    svg = str(qr.qr_svg("https://x.example/c/abc"))
    assert svg.lstrip().startswith("<svg") and "保安员证二维码" in svg and "<path" in svg
