"""Guard cards: issue (and revoke by reissuing), check a scanned card, prepare card sheets."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from anyio import to_thread
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from litestar.datastructures import UploadFile
from piccolo.querystring import QueryString

from server import clock, images
from server.audit import service as audit
from server.audit.service import snapshot
from server.auth.scope import CurrentUser
from server.cards import tokens
from server.cards import qr
from server.cards.qr import qr_svg
from server.errors import FormError
from server.cards.verdict import CardFacts, CardState, card_verdict
from server.db import Prepared, atomic, pages
from server.models.registry import Guard, GuardCard
from server.registry import service as registry
from server.settings import Settings
from server.vocab import CardVerdict, CertStatus, EmploymentStatus


class CardRefused(Exception):
    """A card cannot be issued; the message is for the user."""


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    return tokens.private_key(settings.card_signing_key)


def public_key(settings: Settings) -> str:
    return tokens.public_key_b64(signing_key(settings))


def card_url(settings: Settings, guard_id: int, serial: int) -> str:
    return tokens.card_url(settings.base_url, tokens.sign(signing_key(settings), guard_id, serial))


GUARD_COLUMNS = (
    Guard.id, Guard.name, Guard.certificate_no, Guard.certificate_status,
    Guard.certificate_issued_on, Guard.employment_status, Guard.employer.id, Guard.employer.name,
    Guard.portrait_key, Guard.site.name,
)


def _guard(*names: str) -> list[Any]:
    """Columns of the card's guard (a name may go on through a foreign key, "employer.name"),
    each under its name as the guard's own query gives it: the card's row is the guard's row."""
    columns = []
    for name in names:
        column = GuardCard.guard
        for part in name.split("."):
            column = getattr(column, part)
        columns.append(column.as_alias(name))
    return columns


# The card and its guard (GUARD_COLUMNS, under the same names) in one query, built and compiled
# once: this page answers every scan, so it stays cheap.
_CARD_WITH_GUARD = Prepared(lambda guard_id, serial: GuardCard.select(
    GuardCard.revoked_at, GuardCard.token_hash,
    *_guard(*(column._meta.get_default_alias() for column in GUARD_COLUMNS)),
).where((GuardCard.guard == guard_id) & (GuardCard.serial == serial)).limit(1))

# For a viewer who may see the guard's file (registry.guard_file): the card and the file's guard
# row — the guard's columns of the file (registry.FILE_FIELDS), its employer, its site — and the
# guard's training records (a JSON subquery, registry.training_sql) in the same query, so the
# officer's scan costs one round trip, like the public one.
_CARD_WITH_FILE = Prepared(lambda guard_id, serial: GuardCard.select(
    GuardCard.revoked_at, GuardCard.token_hash,
    *_guard(*registry.FILE_FIELDS, "employer.id", "employer.name", "site.name"),
    QueryString(registry.training_sql('"guard_card"."guard"')).as_alias("training"),
).where((GuardCard.guard == guard_id) & (GuardCard.serial == serial)).limit(1))


async def issue(settings: Settings, user: CurrentUser | None, guard_id: int) -> GuardCard:
    """Issue a new card: the next serial; every earlier card of the guard is revoked, so a
    lost or withdrawn card reads 证件已注销 from now on. The card keeps its token's hash
    (tokens.token_hash), by which its scans are checked."""
    guard = await Guard.select(*GUARD_COLUMNS).where(Guard.id == guard_id).first()
    if guard is None:
        raise CardRefused("保安员不存在")
    if guard["certificate_status"] != CertStatus.valid or not guard["certificate_no"]:
        raise CardRefused(f"{guard['name']} 未持有效保安员证，不能制卡")
    async with atomic():
        now = clock.now()
        last = await GuardCard.select(GuardCard.serial).where(GuardCard.guard == guard_id).order_by(
            GuardCard.serial, ascending=False).first()
        live = await GuardCard.objects().where(
            (GuardCard.guard == guard_id) & GuardCard.revoked_at.is_null())
        for old in live:
            before = snapshot(old)
            old.revoked_at = now
            await old.save()
            await audit.record("revoke", "guard_card", old.id, actor=user, before=before,
                               after=snapshot(old))
        serial = (last["serial"] if last else 0) + 1
        card = GuardCard(guard=guard_id, serial=serial, issued_at=now,
                         token_hash=_token_hash(settings, guard_id, serial))
        await card.save()
        await audit.record("issue", "guard_card", card.id, actor=user, after=snapshot(card))
    return card


def _token_hash(settings: Settings, guard_id: int, serial: int) -> str:
    key = signing_key(settings)
    return tokens.token_hash(key, tokens.sign(key, guard_id, serial))


async def record_token_hashes(settings: Settings) -> int:
    """Write the token hash of every current card whose kept hash is missing or was made with
    another key (cards issued before hashes were kept, or by the demo seed; after
    CARD_SIGNING_KEY changed); returns how many were written. Until then those cards are
    checked by their signature alone."""
    written = 0
    async for rows in pages(lambda: GuardCard.select(GuardCard.id, GuardCard.guard, GuardCard.serial,
                                                     GuardCard.token_hash).where(GuardCard.revoked_at.is_null()),
                            GuardCard.id, 1000):
        async with atomic():
            for r in rows:
                value = _token_hash(settings, r["guard"], r["serial"])
                if r["token_hash"] != value:
                    await GuardCard.update({GuardCard.token_hash: value}).where(GuardCard.id == r["id"])
                    written += 1
    return written


async def revoke(user: CurrentUser, guard_id: int) -> int:
    """Withdraw the guard's current card without a new one (e.g. the guard left)."""
    async with atomic():
        live = await GuardCard.objects().where(
            (GuardCard.guard == guard_id) & GuardCard.revoked_at.is_null())
        for old in live:
            before = snapshot(old)
            old.revoked_at = clock.now()
            await old.save()
            await audit.record("revoke", "guard_card", old.id, actor=user, before=before,
                               after=snapshot(old))
    return len(live)


# ---------------------------------------------------------------- checking a scanned card

@dataclass(frozen=True)
class ScanResult:
    verdict: str
    reason: str
    guard: dict | None = None
    """The guard the card names, when the token is genuine and the guard exists."""
    serial: int | None = None
    training: list[dict] | None = None
    """With the guard's file (check(…, with_file=True)): its training records, latest first."""

    @property
    def verdict_label(self) -> str:
        return CardVerdict.label_of(self.verdict)


async def check(settings: Settings, scanned_text: str,
                site_employer_ids: set[int] | None = None, with_file: bool = False) -> ScanResult:
    """The verdict for whatever a scanner read (a card URL or a bare token). with_file: the
    result's guard is the guard row of the guard's file (registry.guard_file's "guard").

    A token is genuine when it hashes to the value its card keeps (written when the server
    issued it: tokens.token_hash); otherwise — a card recorded without it, a key changed since,
    or a token the server never issued — its Ed25519 signature decides, as it always did."""
    token = tokens.token_from_text(scanned_text)
    decoded = tokens.decode(token)
    if decoded.ok:
        row = await (_CARD_WITH_FILE if with_file else _CARD_WITH_GUARD).first(decoded.guard_id, decoded.serial)
        key = signing_key(settings)
        if not (row and row["token_hash"]
                and hmac.compare_digest(row["token_hash"], tokens.token_hash(key, token))):
            decoded = tokens.verify_own(key, token)
    if not decoded.ok:
        verdict, reason = card_verdict(CardFacts(decoded.status))
        return ScanResult(verdict, reason)
    guard = row  # the card's own columns taken out, the guard's row (_guard)
    if row is None:
        state = CardState.unknown
    else:
        state = CardState.superseded if row.pop("revoked_at") is not None else CardState.current
        del row["token_hash"]
        training = row.pop("training", None)
    facts = CardFacts(
        decoded.status, state,
        guard["certificate_status"] if guard else None,
        guard["employment_status"] if guard else None,
        guard["employer.id"] if guard else None,
    )
    verdict, reason = card_verdict(facts, site_employer_ids)
    if state == CardState.unknown:
        return ScanResult(verdict, reason, None, decoded.serial)
    return ScanResult(verdict, reason, guard, decoded.serial, registry.training_of(training) if with_file else None)


# ---------------------------------------------------------------- card sheets

async def sheet(settings: Settings, guard_ids: list[int]) -> tuple[list[dict], list[dict]]:
    """(cards to print, guards without a current card) for the given guards, in name order."""
    if not guard_ids:
        return [], []
    guards = await Guard.select(*GUARD_COLUMNS).where(Guard.id.is_in(guard_ids)).order_by(Guard.name)
    live = await GuardCard.select().where(
        GuardCard.guard.is_in(guard_ids) & GuardCard.revoked_at.is_null())
    by_guard = {c["guard"]: c for c in live}
    printable, missing = [], []
    for g in guards:
        card = by_guard.get(g["id"])
        if card is None:
            missing.append(g)
            continue
        url = card_url(settings, g["id"], card["serial"])
        printable.append({"guard": g, "card": card, "url": url, "qr": qr_svg(url)})
    return printable, missing


# ---------------------------------------------------------------- checking cards with no signal

def roster_digest(salt: bytes, token: str) -> str:
    """The key of a card in an offline roster: HMAC-SHA256 of its token under the roster's salt
    (static/js/offline.js computes the same with WebCrypto from the scanned code)."""
    return hmac.new(salt, token.encode(), hashlib.sha256).hexdigest()


async def offline_roster(settings: Settings, site: dict, limit: int = 400) -> dict:
    """What a phone needs to check this site's guards' cards in a basement: the current card of
    every active guard posted here or employed by the units that guard it, with the verdict
    the server would give here now. Cards are keyed by a keyed hash of their token (a fresh
    random salt per page), never by the token itself, so a copied or lost page cannot print a
    working card. A card not in it (withdrawn, superseded, another site's) cannot be checked
    offline; the queued scan is checked by the server when the signal returns."""
    employers = registry.site_employer_ids(site)
    guards = await Guard.select(*GUARD_COLUMNS).where(
        (Guard.employment_status == EmploymentStatus.active)
        & ((Guard.site == site["id"]) | Guard.employer.is_in(list(employers)))).limit(limit)
    by_id = {g["id"]: g for g in guards}
    cards = await GuardCard.select().where(
        GuardCard.guard.is_in(list(by_id)) & GuardCard.revoked_at.is_null()) if by_id else []
    key = signing_key(settings)
    salt = secrets.token_bytes(16)
    entries = {}
    for c in cards:
        g = by_id[c["guard"]]
        verdict, reason = card_verdict(CardFacts(
            tokens.TokenStatus.ok, CardState.current, g["certificate_status"], g["employment_status"],
            g["employer.id"]), employers)
        entries[roster_digest(salt, tokens.sign(key, g["id"], c["serial"]))] = {
            "name": g["name"], "certificate_no": g["certificate_no"] or "",
            "employer": g["employer.name"], "verdict": verdict,
            "label": CardVerdict.label_of(verdict), "reason": reason,
        }
    return {"as_of": clock.now().isoformat(), "salt": salt.hex(), "cards": entries}


# ---------------------------------------------------------------- what was scanned

async def scanned_text(settings: Settings, form: Any) -> str:
    """The text to check: the live scanner's reading, a QR found in a photo of the card, or
    a typed certificate number (returned as "cert:<number>"). Nothing to check: a FormError
    at the field "scan"."""
    code = str(form.get("code") or "").strip()
    if code:
        return code[:1000]
    upload = form.get("card_photo")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read()
        try:
            await to_thread.run_sync(images.check_image, data, settings.max_upload_mb * 1024 * 1024,
                                     settings.max_image_pixels)
        except images.ImageRejected as exc:
            raise FormError({"scan": str(exc)}) from None
        found = await to_thread.run_sync(qr.decode_photo, data)
        if not found:
            raise FormError({"scan": "照片中没有找到二维码：请让二维码占满取景框中央、避免反光后重拍，或输入保安员证号"})
        return found[0]
    cert = str(form.get("certificate_no") or "").strip()
    if cert:
        return "cert:" + cert[:32]
    raise FormError({"scan": "请扫描二维码、拍摄证卡照片，或输入保安员证号"})
