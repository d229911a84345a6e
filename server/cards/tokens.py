"""Signed guard-card tokens. Pure: bytes and keys in, tokens or results out; no I/O.

Why Ed25519 and not an HMAC: a card must be checkable where the network is not, so the
phone will carry the *public* key (issue 7) and verify a card offline. With an HMAC the
phone would have to hold the secret that also makes cards, and one lost phone would let
anyone print valid cards. An Ed25519 signature is 64 bytes — larger than a truncated HMAC —
so everything else in the payload is kept as small as possible.

Token layout (then base64url without padding):

    version (1 byte) · guard id (unsigned LEB128) · card serial (unsigned LEB128) · signature (64)

The signature covers a domain tag plus the payload, so a signature made by the same key for
any other purpose can never pass as a card. For guard 123, serial 1: 3 + 64 bytes → 91
characters, and with BASE_URL "https://inspect.example.org" the QR URL is about 120
characters: QR version 7 or 8 at error correction level M (see qr.py).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

VERSION = 1
DOMAIN = b"guard-card-v1:"
SIG_LEN = 64
PATH_PREFIX = "/c/"
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{80,120}$")


class TokenStatus:
    ok = "ok"
    malformed = "malformed"
    """Not a card token at all (wrong length, alphabet, version or encoding)."""
    bad_signature = "bad_signature"
    """Shaped like a token, but not signed by our key: forged or altered."""


@dataclass(frozen=True)
class Decoded:
    status: str
    guard_id: int | None = None
    serial: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == TokenStatus.ok


# ---------------------------------------------------------------- keys

@lru_cache(maxsize=8)
def private_key(hex_seed: str) -> Ed25519PrivateKey:
    """The signing key from its 32-byte seed written as 64 hex digits (CARD_SIGNING_KEY)."""
    try:
        seed = bytes.fromhex(hex_seed.strip())
    except ValueError:
        raise ValueError("CARD_SIGNING_KEY must be 64 hex digits (openssl rand -hex 32)") from None
    if len(seed) != 32:
        raise ValueError("CARD_SIGNING_KEY must be 64 hex digits (openssl rand -hex 32)")
    return Ed25519PrivateKey.from_private_bytes(seed)


@lru_cache(maxsize=8)
def _public_raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_key_b64(key: Ed25519PrivateKey) -> str:
    """The raw 32-byte public key, base64url: what a phone needs to verify cards offline."""
    return _b64(_public_raw(key))


# ---------------------------------------------------------------- encoding

def _varint(n: int) -> bytes:
    if n < 0:
        raise ValueError("negative")
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 35:
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            if byte == 0 and shift > 7:
                raise ValueError("non-minimal varint")  # one value, one encoding
            return value, pos


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(key: Ed25519PrivateKey, guard_id: int, serial: int) -> str:
    if guard_id < 1 or serial < 1:
        raise ValueError("guard id and serial start at 1")
    payload = bytes([VERSION]) + _varint(guard_id) + _varint(serial)
    return _b64(payload + key.sign(DOMAIN + payload))


def _parse(token: str) -> tuple[Decoded, bytes, bytes]:
    """(the token's guard id and serial, or why it is malformed; the signed payload; the signature)."""
    token = token.strip()
    if not _TOKEN_RE.fullmatch(token):
        return Decoded(TokenStatus.malformed), b"", b""
    try:
        raw = _unb64(token)
    except (binascii.Error, ValueError):
        return Decoded(TokenStatus.malformed), b"", b""
    if _b64(raw) != token:  # non-canonical base64 (stray low bits): a different string
        return Decoded(TokenStatus.malformed), b"", b""
    if len(raw) <= SIG_LEN + 1 or raw[0] != VERSION:
        return Decoded(TokenStatus.malformed), b"", b""
    payload, signature = raw[:-SIG_LEN], raw[-SIG_LEN:]
    try:
        guard_id, pos = _read_varint(payload, 1)
        serial, pos = _read_varint(payload, pos)
    except ValueError:
        return Decoded(TokenStatus.malformed), b"", b""
    if pos != len(payload) or guard_id < 1 or serial < 1:
        return Decoded(TokenStatus.malformed), b"", b""
    return Decoded(TokenStatus.ok, guard_id, serial), payload, signature


def decode(token: str) -> Decoded:
    """The guard id and serial a token names, or why it is malformed; the signature unchecked."""
    return _parse(token)[0]


def verify(public: Ed25519PublicKey, token: str) -> Decoded:
    """Check a token with the public key: what a phone does offline, and anyone may."""
    decoded, payload, signature = _parse(token)
    if not decoded.ok:
        return decoded
    try:
        public.verify(signature, DOMAIN + payload)
    except InvalidSignature:
        return Decoded(TokenStatus.bad_signature)
    return decoded


def verify_own(key: Ed25519PrivateKey, token: str) -> Decoded:
    """Check a token with the signing key itself: the server's check of every scan.

    Ed25519 signing is deterministic (RFC 8032: the nonce is a hash of the key and the message),
    so the cards this key signed carry exactly the signature it makes again for their payload;
    comparing the two (in constant time) accepts precisely those, and nothing without the key
    can match. Signing costs a third of verifying (OpenSSL: ~50 against ~160 µs on the
    benchmark machine), and every card page pays it. The same result as verify() with the
    key's public key (tests/test_cards_tokens.py)."""
    decoded, payload, signature = _parse(token)
    if not decoded.ok:
        return decoded
    if not hmac.compare_digest(key.sign(DOMAIN + payload), signature):
        return Decoded(TokenStatus.bad_signature)
    return decoded


def token_hash(key: Ed25519PrivateKey, token: str) -> str:
    """What the server keeps of a card's token when it issues the card (GuardCard.token_hash):
    SHA-256 over the key's public half and the token, hex. A scanned token that hashes to the
    value kept for the card it names is that card's token as signed by this key (a different
    token, or the same one under another key, hashes to something else), so the server's check
    of a card it recorded needs no Ed25519 arithmetic: a hash (~1 µs) against a signature
    (~50 µs), on the busiest page. Like a session's token hash, the value kept reveals nothing
    that would make a card."""
    return hashlib.sha256(_public_raw(key) + token.encode()).hexdigest()


# ---------------------------------------------------------------- URLs

def card_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}{PATH_PREFIX}{token}"


def token_from_text(text: str) -> str:
    """The token in what a scanner read: a card URL (any host — a card printed for another
    BASE_URL is still checked by its signature) or a bare token. Returns the text after the
    last "/c/", or the text itself; verify() decides whether it is a token."""
    text = (text or "").strip()
    if PATH_PREFIX in text:
        text = text.rsplit(PATH_PREFIX, 1)[1]
    return text.split("?", 1)[0].split("#", 1)[0].strip("/")
