"""Pure rules of the inspection: a guard's card verdict, findings derived from failed checks,
and what must hold before an inspection can be submitted. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field

from server.campaign.checklist import AREA_NUMBERS, BY_NUMBER as AREAS
from server.vocab import Answer, CardVerdict, CertStatus, CountUnit

PERSON_AREAS = (1, 2)  # focus areas counted per guard (人)

GUARD_CHECKS = {"certificate_shown": True, "uniform_ok": True, "insignia_ok": True, "tejin_marking": False}
"""The four checks of a guard on duty and the answer of each that is in order (四项均正常)."""
GUARD_CHECK_LABELS = {"certificate_shown": "出示保安员证", "uniform_ok": "着装", "insignia_ok": "服务标志",
                      "tejin_marking": "特勤字样"}


@dataclass(frozen=True)
class GuardFacts:
    """What a guard check knows about one guard met on duty."""

    check_id: int
    guard_id: int | None
    name: str
    certificate_no: str
    verdict: str
    uniform_ok: bool | None = None
    insignia_ok: bool | None = None
    tejin_marking: bool | None = None


@dataclass(frozen=True)
class DerivedFinding:
    key: str
    area: int
    stat_column: int | None
    count_unit: str
    quantity: int
    text: str
    guard_check_id: int | None = None
    guard_id: int | None = None


def card_verdict(guard_found: bool, cert_status: str | None, employer_id: int | None,
                 site_employer_ids: set[int]) -> str:
    """The verdict for a guard met at a site. site_employer_ids: units whose guards may
    legitimately serve the site (the unit itself and its guard provider)."""
    if not guard_found:
        return CardVerdict.unrecognised
    if cert_status == CertStatus.revoked:
        return CardVerdict.revoked
    if cert_status != CertStatus.valid:
        return CardVerdict.no_certificate
    if employer_id not in site_employer_ids:
        return CardVerdict.other_unit
    return CardVerdict.valid


def _who(g: GuardFacts) -> str:
    if g.name and g.certificate_no:
        return f"保安员{g.name}（证号{g.certificate_no}）"
    if g.name:
        return f"保安员{g.name}"
    return f"证号{g.certificate_no}的人员" if g.certificate_no else "一名保安员"


def guard_findings(g: GuardFacts) -> list[DerivedFinding]:
    out: list[DerivedFinding] = []
    base = dict(count_unit=CountUnit.person, quantity=1, guard_check_id=g.check_id, guard_id=g.guard_id)
    if g.verdict in (CardVerdict.no_certificate, CardVerdict.revoked, CardVerdict.unrecognised):
        reason = {
            CardVerdict.no_certificate: "未取得保安员证，无证上岗",
            CardVerdict.revoked: "保安员证已注销，仍在岗",
            CardVerdict.unrecognised: "所持证件无法核验（可能伪造），按无证上岗处理",
        }[g.verdict]
        out.append(DerivedFinding(f"guard:{g.check_id}:1", 1, 15, text=f"{_who(g)}{reason}", **base))
    elif g.verdict == CardVerdict.other_unit:
        out.append(DerivedFinding(
            f"guard:{g.check_id}:8", 8, None, text=f"{_who(g)}的登记单位与服务单位不符，需核查是否挂靠或派遣",
            **base))
    problems = []
    if g.uniform_ok is False:
        problems.append("未按规定穿着保安员服装")
    if g.insignia_ok is False:
        problems.append("未佩戴保安服务标志")
    if g.tejin_marking is True:
        problems.append("服装违规佩带“特勤”或“特别勤务”标识")
    if problems:
        out.append(DerivedFinding(f"guard:{g.check_id}:2", 2, 16, text=f"{_who(g)}{'、'.join(problems)}", **base))
    return out


def derive_findings(answers: dict[int, tuple[str, str]], guards: list[GuardFacts]) -> list[DerivedFinding]:
    """Findings that follow from the checklist answers {area: (answer, note)} and the guard
    checks. Per-person areas (1, 2) are counted per guard when guards were checked; an area
    answered 不符合 with no guard-level finding gives one area-level finding."""
    out: list[DerivedFinding] = []
    for g in guards:
        out.extend(guard_findings(g))
    covered = {f.area for f in out}
    for area in AREA_NUMBERS:
        answer, note = answers.get(area, ("", ""))
        if answer != Answer.violation or area in covered:
            continue
        a = AREAS[area]
        text = f"{a.title}：{note.strip()}" if note.strip() else f"{a.title}：{a.question}——不符合"
        out.append(DerivedFinding(f"area:{area}", area, a.default_column, a.count_unit, 1, text))
    return out


@dataclass
class SubmitProblems:
    areas: dict[int, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.areas or self.general)

    def messages(self) -> list[str]:
        return [f"第{a}项（{AREAS[a].title}）：{m}" for a, m in sorted(self.areas.items())] + self.general


def submit_problems(answers: dict[int, tuple[str, str]], derived: list[DerivedFinding],
                    finding_texts: list[str]) -> SubmitProblems:
    p = SubmitProblems()
    for area in AREA_NUMBERS:
        if answers.get(area, ("", ""))[0] not in {a.value for a in Answer}:
            p.areas[area] = "请选择 符合 / 不符合 / 不适用"
    guard_areas = {f.area for f in derived if f.guard_check_id is not None}
    for area in PERSON_AREAS:
        if area in guard_areas and answers.get(area, ("", ""))[0] in (Answer.ok, Answer.na):
            p.areas.setdefault(area, "保安员核查发现问题，但此项选择了“符合/不适用”，请核对")
    if any(not t.strip() for t in finding_texts):
        p.general.append("有问题描述为空，请补充")
    return p


def all_ok_answers(answered: set[int], guard_areas: set[int]) -> dict[int, str]:
    """What 全部符合 records: every area not yet answered is 符合, except an area where a guard
    check has already found a problem, which is 不符合 (so the two never contradict). Areas
    already answered keep what the officer chose."""
    return {a: Answer.violation if a in guard_areas else Answer.ok
            for a in AREA_NUMBERS if a not in answered}


def unchecked(values: dict[str, bool | None]) -> list[str]:
    """The checks of one guard not yet answered, by their labels."""
    return [GUARD_CHECK_LABELS[k] for k in GUARD_CHECKS if values.get(k) is None]


def still_missing(problems: SubmitProblems, guards: list[tuple[str, list[str]]]) -> list[str]:
    """What the officer still has to do, shown above the submit button: what blocks the
    submission, then guards whose checks are not all answered (who, which checks)."""
    return problems.messages() + [f"{who}：{'、'.join(checks)}未检查" for who, checks in guards if checks]


# ---------------------------------------------------------------- the offender (违法主体)

PROVIDER_AREAS = (4, 6)
"""Focus areas whose violation is, by default, the provider's posted at the site: unlicensed or
disguised security service (4), a self-recruiting unit serving outside its walls (6)."""


def default_offender(area: int, owner_id: int, provider_id: int | None) -> int:
    """Who a finding is against unless the officer says otherwise: the provider posted at
    the site for areas 4 and 6 (when the site has one), else the site's owner."""
    return provider_id if area in PROVIDER_AREAS and provider_id else owner_id


@dataclass(frozen=True)
class OffenderChoice:
    unit_id: int
    label: str


def offender_choices(owner: tuple[int, str], provider: tuple[int, str] | None,
                     employers: list[tuple[int, str]], current: tuple[int, str] | None = None) -> list[OffenderChoice]:
    """The parties a finding at a site can name, each once: the site's owner, the provider
    posted there, the employers of the guards checked, and the finding's present offender."""
    out: list[OffenderChoice] = []
    seen: set[int] = set()
    for prefix, party in [("场所单位", owner), ("派驻服务单位", provider),
                          *(("保安员所属单位", e) for e in employers), ("现违法主体", current)]:
        if party and party[0] not in seen:
            seen.add(party[0])
            out.append(OffenderChoice(party[0], f"{prefix}：{party[1]}"))
    return out


def offender_named(chosen: int | None, name: str, allowed: set[int]) -> tuple[str, int | str | None]:
    """What the form names as offender: ("unit", id) for one of the offered parties,
    ("name", text) for another unit typed by name or credit code, ("default", None) when
    nothing is chosen. A typed name wins over the list. An id not offered is refused."""
    name = name.strip()
    if name:
        return "name", name
    if chosen is None:
        return "default", None
    if chosen not in allowed:
        raise ValueError("所选违法主体不是本场所的相关单位，请重新选择，或填写其他单位名称")
    return "unit", chosen
