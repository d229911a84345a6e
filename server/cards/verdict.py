"""The verdict for a scanned guard card. Pure: facts in, verdict and reason out.

One function for all three scan paths (any phone camera opening the URL, the live scanner in
an inspection, a photo of the card decoded on the server), so they always agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.cards.tokens import TokenStatus
from server.vocab import CardVerdict, CertStatus, EmploymentStatus


class CardState:
    current = "current"
    superseded = "superseded"
    """Revoked: a newer card was issued, or the card was withdrawn."""
    unknown = "unknown"
    """Signed by us, but no such card (or guard) in the registry."""


@dataclass(frozen=True)
class CardFacts:
    token_status: str
    card_state: str = CardState.unknown
    cert_status: str | None = None
    employment_status: str | None = None
    employer_id: int | None = None


def card_verdict(f: CardFacts, site_employer_ids: set[int] | None = None) -> tuple[str, str]:
    """(CardVerdict value, reason in Chinese). site_employer_ids: the units whose guards may
    serve the inspected site; None when the card is checked outside an inspection."""
    verdict, reason = _verdict(f, site_employer_ids)
    return CardVerdict(verdict).value, reason  # a plain string: templates print it in class names


def _verdict(f: CardFacts, site_employer_ids: set[int] | None) -> tuple[str, str]:
    if f.token_status == TokenStatus.malformed:
        return CardVerdict.unrecognised, "二维码不是本系统制作的保安员证"
    if f.token_status != TokenStatus.ok:
        return CardVerdict.unrecognised, "二维码签名无效：证件被伪造或篡改"
    if f.card_state == CardState.unknown:
        return CardVerdict.unrecognised, "系统中没有这张证卡的记录"
    if f.card_state == CardState.superseded:
        return CardVerdict.revoked, "此卡已作废（已补发新卡或已收回）"
    if f.cert_status == CertStatus.revoked:
        return CardVerdict.revoked, "保安员证已被注销"
    if f.cert_status != CertStatus.valid:
        return CardVerdict.no_certificate, "此人未取得保安员证"
    if f.employment_status != EmploymentStatus.active:
        return CardVerdict.other_unit, "此人已不在登记单位任职"
    if site_employer_ids is not None and f.employer_id not in site_employer_ids:
        return CardVerdict.other_unit, "登记单位与本服务目标的单位或保安服务提供方不符"
    return CardVerdict.valid, "证卡有效，持证且在登记单位任职"
