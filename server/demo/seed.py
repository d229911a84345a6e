"""An idempotent demo data set for 蓟州区保安服务市场清理整顿专项行动.

`seed_demo()` writes townships, reporting bodies, the campaign with its phases and reporting
deadlines, ~40 units, their sites, ~200 guards with training records, and one user per role.

The data are built first, in memory and deterministically (`random.Random(20201214)`), and
only then compared with the database by natural key, so a second run draws the very same
rows, finds them all and creates nothing. Existing rows are never changed.

The campaign's dates are those of the original order moved by whole weeks (weekly reports stay
on Fridays) so that the day of the seed (`today`, default the local date) falls in the first
week of 集中整治: the demo is a campaign in motion, with history behind it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from piccolo.table import Table

from server.auth.passwords import hash_password
from server.models.auth import User
from server.models.campaign import Body, Campaign, Phase, ReportingDeadline, Township
from server.db import atomic
from server.registry.ids import id_check_digit, org_code_check_char, uscc_check_char
from server.models.registry import Guard, GuardCard, Site, TrainingRecord, Unit
from server.vocab import (
    BodyScope,
    CertStatus,
    FilingStatus,
    ProviderKind,
    Role,
    Sector,
    TrainingKind,
    UnitKind,
)

SEED = 20201214
DEMO_PASSWORD = "demo1234"
CAMPAIGN_NAME = "蓟州区保安服务市场清理整顿专项行动"
POLICE_BODY = "公安蓟州分局"

# (username, password, role, display name, body name)
DEMO_ACCOUNTS: list[tuple[str, str, str, str, str]] = [
    ("minjing", DEMO_PASSWORD, Role.officer.value, "王警官", POLICE_BODY),
    ("minjing2", DEMO_PASSWORD, Role.officer.value, "李警官", POLICE_BODY),
    ("bangongshi", DEMO_PASSWORD, Role.office.value, "张主任", POLICE_BODY),
    ("lianluoyuan", DEMO_PASSWORD, Role.liaison.value, "赵联络员", "区教育局"),
    ("xiangzhen", DEMO_PASSWORD, Role.liaison.value, "孙联络员", "渔阳镇"),
    ("lingdao", DEMO_PASSWORD, Role.leader.value, "刘组长", POLICE_BODY),
]

DEV_ZONE = "蓟州经济开发区"
LATE_BODY = "区交通局"
"""The body that has not yet named its liaison and phone: late with its report in the demo."""

# Township name -> a few real streets for plausible addresses.
TOWNSHIPS: dict[str, tuple[str, ...]] = {
    "渔阳镇": ("人民西大街", "中昌北大街", "渔阳北路", "武定街"),
    "文昌街道": ("文昌街", "兴华大街", "迎宾大街", "府君路"),
    "洇溜镇": ("洇溜大街", "津围公路"),
    "官庄镇": ("盘山路", "官庄大街"),
    "马伸桥镇": ("马伸桥大街", "平津路"),
    "下营镇": ("下营大街", "黄崖关路"),
    "邦均镇": ("邦均大街", "京哈公路"),
    "别山镇": ("别山大街", "津蓟公路"),
    DEV_ZONE: ("兴业路", "创业大道", "新兴路"),
}

# (name, short name, scope, sector, township name, is_police)
FIXED_BODIES: list[tuple[str, str, str, str | None, str | None, bool]] = [
    ("区委办公室", "区委办", BodyScope.sector, Sector.party_office, None, False),
    ("区政府办公室", "区政府办", BodyScope.sector, Sector.gov_office, None, False),
    ("区住房建设委", "住建委", BodyScope.sector, Sector.property, None, False),
    ("区卫生健康委", "卫健委", BodyScope.sector, Sector.hospital, None, False),
    (POLICE_BODY, "公安分局", BodyScope.district, None, None, True),
    ("区人社局", "人社局", BodyScope.sector, Sector.labour, None, False),
    ("区教育局", "教育局", BodyScope.sector, Sector.school, None, False),
    ("区文化和旅游局", "文旅局", BodyScope.sector, Sector.entertainment, None, False),
    ("区交通局", "交通局", BodyScope.sector, Sector.transport, None, False),
    ("开发区管委会", "开发区", BodyScope.township, None, DEV_ZONE, False),
]

# fmt: off
# (code, name, starts_on, ends_on, description)
PHASES = [
    ("survey", "调查摸底", date(2020, 12, 14), date(2020, 12, 25),
     "全面摸排辖区使用、招用、提供保安服务的单位，收集线索，分类登记，建立工作台账。"),
    ("self_inspection", "自查整改", date(2020, 12, 26), date(2021, 1, 10),
     "对发现的问题限期整改；不符合条件的保安员调离保安岗位或依法辞退；自招保安单位依法备案。"),
    ("concentrated", "集中整治", date(2021, 1, 11), date(2021, 1, 25),
     "对责令整改的单位逐一“回头看”，对拒不整改的依法查处。"),
    ("summary", "总结提升", date(2021, 1, 25), date(2021, 2, 5),
     "逐一核查清理整顿对象，销号结案，总结固化有效做法。"),
]

# (kind, title, due_on); weekly reports are added below, every Friday after 12-25.
FIXED_DEADLINES = [
    ("contacts", "报送分管领导、联络员及联系电话", date(2020, 12, 15)),
    ("plan", "报送本单位专项工作方案", date(2020, 12, 21)),
    ("statistics", "报送统计表", date(2020, 12, 31)),
    ("summary", "报送专项行动总结", date(2021, 2, 8)),
]
WEEKLY_FIRST = date(2021, 1, 1)
WEEKLY_LAST = date(2021, 2, 5)
CONCENTRATED_START = date(2021, 1, 11)


def shift_for(today: date | None) -> timedelta:
    """Whole weeks that move the order's dates so that `today` is in the first week of
    集中整治 (zero for a day in 2021-01-11 … 01-17)."""
    if today is None:
        from server.clock import today as local_today

        today = local_today()
    return timedelta(days=7 * ((today - CONCENTRATED_START).days // 7))

CAMPAIGN_OPTIONS = {
    "rectify_days": {"1": 15, "2": 7, "3": 15, "4": 15, "5": 15, "6": 15, "7": 30, "8": 15},
    "legal_basis": "依据《保安服务管理条例》及相关规定",
}

# --- units and sites ------------------------------------------------------------------------
# A unit is (kind, name, sector, township, extra); extra may hold "filing" (a FilingStatus)
# and "code" (the USCC's first two characters: 91 enterprise, 12 public institution,
# 11 government organ). Sites: (unit name, site name, provider kind, provider unit name, posts).

SC, SR, PC, UU, UQ, IL = (
    UnitKind.security_company,
    UnitKind.self_recruiting,
    UnitKind.property_company,
    UnitKind.using_unit,
    UnitKind.unqualified_employer,
    UnitKind.illegal_org,
)

UNITS: list[tuple[UnitKind, str, Sector, str, dict[str, Any]]] = [
    # 保安服务公司
    (SC, "天津市蓟州区保安服务有限公司", Sector.security, "文昌街道", {}),
    (SC, "天津市蓟州区安泰保安服务有限公司", Sector.security, "渔阳镇", {}),
    (SC, "天津市蓟州区盛安保安服务有限公司", Sector.security, "文昌街道", {}),
    (SC, "天津渔阳保安服务有限公司", Sector.security, "渔阳镇", {}),
    (SC, "天津市蓟州区鑫盾保安服务有限公司", Sector.security, "邦均镇", {}),
    # 物业服务企业
    (PC, "天津市蓟州区渔阳物业服务有限公司", Sector.property, "渔阳镇", {"filing": FilingStatus.filed}),
    (PC, "天津市蓟州区府君山物业服务有限公司", Sector.property, "文昌街道", {"filing": FilingStatus.filed}),
    (PC, "天津盘山物业管理有限公司", Sector.property, "官庄镇", {"filing": FilingStatus.unfiled}),
    (PC, "天津市蓟州区鼓楼物业服务有限公司", Sector.property, "渔阳镇", {"filing": FilingStatus.unfiled}),
    (PC, "天津市蓟州区邦均物业服务有限公司", Sector.property, "邦均镇", {"filing": FilingStatus.filed}),
    (PC, "天津蓟开物业服务有限公司", Sector.property, DEV_ZONE, {"filing": FilingStatus.unfiled}),
    # 自招保安单位
    (SR, "天津市蓟州区燕山商厦有限公司", Sector.enterprise, "渔阳镇", {"filing": FilingStatus.filed}),
    (SR, "天津市蓟州区供水有限公司", Sector.enterprise, "文昌街道", {"filing": FilingStatus.filed}),
    (SR, "天津蓟开精密机械有限公司", Sector.enterprise, DEV_ZONE, {"filing": FilingStatus.unfiled}),
    (SR, "天津市蓟州区融通小额贷款有限公司", Sector.finance, "渔阳镇", {"filing": FilingStatus.filed}),
    (SR, "天津市蓟州区下营长城旅游开发有限公司", Sector.other, "下营镇", {"filing": FilingStatus.unfiled}),
    (SR, "天津市蓟州区马伸桥建材有限公司", Sector.enterprise, "马伸桥镇", {"filing": FilingStatus.unfiled}),
    # 使用保安单位
    (UU, "中共天津市蓟州区委员会办公室", Sector.party_office, "文昌街道", {"code": "11"}),
    (UU, "天津市蓟州区人民政府办公室", Sector.gov_office, "文昌街道", {"code": "11"}),
    (UU, "天津市蓟州区政务服务中心", Sector.gov_office, "渔阳镇", {"code": "12"}),
    (UU, "天津市蓟州区第一中学", Sector.school, "文昌街道", {"code": "12"}),
    (UU, "天津市蓟州区邦均中学", Sector.school, "邦均镇", {"code": "12"}),
    (UU, "天津市蓟州区马伸桥中学", Sector.school, "马伸桥镇", {"code": "12"}),
    (UU, "天津市蓟州区实验小学", Sector.school, "渔阳镇", {"code": "12"}),
    (UU, "天津市蓟州区第一幼儿园", Sector.school, "渔阳镇", {"code": "12"}),
    (UU, "天津市蓟州区人民医院", Sector.hospital, "渔阳镇", {"code": "12"}),
    (UU, "天津市蓟州区中医医院", Sector.hospital, "文昌街道", {"code": "12"}),
    (UU, "天津市蓟州区妇幼保健计划生育服务中心", Sector.hospital, "渔阳镇", {"code": "12"}),
    (UU, "天津市蓟州区邦均镇卫生院", Sector.hospital, "邦均镇", {"code": "12"}),
    (UU, "天津市蓟州区金色年华娱乐有限公司", Sector.entertainment, "渔阳镇", {}),
    (UU, "天津市蓟州区星光文化娱乐有限公司", Sector.entertainment, "文昌街道", {}),
    (UU, "天津市蓟州区洇溜镇欢乐迪歌舞厅", Sector.entertainment, "洇溜镇", {}),
    (UU, "天津市蓟州区长途汽车客运站", Sector.transport, "渔阳镇", {}),
    (UU, "天津市蓟州区旅游客运中心", Sector.transport, "官庄镇", {}),
    (UU, "天津市蓟州区渔阳商贸城有限公司", Sector.enterprise, "渔阳镇", {}),
    # 无资格单位 (劳务派遣 / 保洁)
    (UQ, "天津市蓟州区恒通劳务派遣有限公司", Sector.labour, "渔阳镇", {}),
    (UQ, "天津市蓟州区洁美保洁服务有限公司", Sector.labour, "文昌街道", {}),
    (UQ, "天津市蓟州区众力人力资源服务有限公司", Sector.labour, "邦均镇", {}),
    # 非法保安组织 (no USCC)
    (IL, "蓟州区洇溜镇“神盾”安保服务队", Sector.security, "洇溜镇",
     {"notes": "未取得保安服务许可证，以“特勤”名义对外承揽保安业务。"}),
    (IL, "蓟州区别山镇“金鹰”护卫队", Sector.security, "别山镇",
     {"notes": "未经许可，以劳务承包名义向周边商户派驻看护人员。"}),
]

_P_OWN, _P_SC, _P_PC, _P_UQ = (
    ProviderKind.own,
    ProviderKind.security_company,
    ProviderKind.property_company,
    ProviderKind.unqualified,
)

SITES: list[tuple[str, str, ProviderKind, str | None, int]] = [
    # property companies: their own residential compounds, guarded by their own staff
    ("天津市蓟州区渔阳物业服务有限公司", "渔阳花园小区", _P_OWN, None, 4),
    ("天津市蓟州区渔阳物业服务有限公司", "鼓楼南苑小区", _P_OWN, None, 3),
    ("天津市蓟州区府君山物业服务有限公司", "府君山庄小区", _P_OWN, None, 4),
    ("天津盘山物业管理有限公司", "盘山家园小区", _P_OWN, None, 3),
    ("天津市蓟州区鼓楼物业服务有限公司", "鼓楼佳苑小区", _P_OWN, None, 3),
    ("天津市蓟州区鼓楼物业服务有限公司", "翠屏湖畔小区", _P_SC, "天津渔阳保安服务有限公司", 2),
    ("天津市蓟州区邦均物业服务有限公司", "邦均新城小区", _P_OWN, None, 3),
    ("天津蓟开物业服务有限公司", "开发区职工公寓", _P_OWN, None, 2),
    # self-recruiting units: their own premises
    ("天津市蓟州区燕山商厦有限公司", "燕山商厦营业大楼", _P_OWN, None, 4),
    ("天津市蓟州区供水有限公司", "第一水厂", _P_OWN, None, 2),
    ("天津市蓟州区供水有限公司", "公司办公楼", _P_OWN, None, 1),
    ("天津蓟开精密机械有限公司", "厂区", _P_OWN, None, 3),
    ("天津市蓟州区融通小额贷款有限公司", "营业部", _P_OWN, None, 2),
    ("天津市蓟州区下营长城旅游开发有限公司", "黄崖关景区游客服务中心", _P_OWN, None, 3),
    ("天津市蓟州区下营长城旅游开发有限公司", "景区停车场", _P_SC, "天津市蓟州区鑫盾保安服务有限公司", 2),
    ("天津市蓟州区马伸桥建材有限公司", "厂区", _P_OWN, None, 2),
    # using units
    ("中共天津市蓟州区委员会办公室", "区委机关大院", _P_SC, "天津市蓟州区保安服务有限公司", 4),
    ("天津市蓟州区人民政府办公室", "区政府机关大院", _P_SC, "天津市蓟州区保安服务有限公司", 4),
    ("天津市蓟州区人民政府办公室", "区政府第二办公区", _P_PC, "天津市蓟州区府君山物业服务有限公司", 2),
    ("天津市蓟州区政务服务中心", "政务服务大厅", _P_PC, "天津市蓟州区渔阳物业服务有限公司", 3),
    ("天津市蓟州区第一中学", "校本部", _P_SC, "天津市蓟州区安泰保安服务有限公司", 3),
    ("天津市蓟州区邦均中学", "校本部", _P_SC, "天津市蓟州区鑫盾保安服务有限公司", 2),
    ("天津市蓟州区马伸桥中学", "校本部", _P_UQ, "天津市蓟州区众力人力资源服务有限公司", 2),
    ("天津市蓟州区实验小学", "校本部", _P_SC, "天津市蓟州区安泰保安服务有限公司", 2),
    ("天津市蓟州区实验小学", "东校区", _P_SC, "天津市蓟州区安泰保安服务有限公司", 2),
    ("天津市蓟州区第一幼儿园", "园区", _P_SC, "天津市蓟州区盛安保安服务有限公司", 2),
    ("天津市蓟州区人民医院", "门诊楼", _P_SC, "天津市蓟州区保安服务有限公司", 5),
    ("天津市蓟州区人民医院", "住院部", _P_SC, "天津市蓟州区保安服务有限公司", 4),
    ("天津市蓟州区中医医院", "院区", _P_PC, "天津市蓟州区府君山物业服务有限公司", 3),
    ("天津市蓟州区妇幼保健计划生育服务中心", "院区", _P_UQ, "天津市蓟州区洁美保洁服务有限公司", 2),
    ("天津市蓟州区邦均镇卫生院", "院区", _P_PC, "天津市蓟州区邦均物业服务有限公司", 1),
    ("天津市蓟州区金色年华娱乐有限公司", "经营场所", _P_SC, "天津市蓟州区盛安保安服务有限公司", 3),
    ("天津市蓟州区星光文化娱乐有限公司", "经营场所", _P_UQ, "天津市蓟州区恒通劳务派遣有限公司", 3),
    ("天津市蓟州区洇溜镇欢乐迪歌舞厅", "经营场所", _P_SC, "天津市蓟州区鑫盾保安服务有限公司", 2),
    ("天津市蓟州区长途汽车客运站", "候车大厅", _P_SC, "天津渔阳保安服务有限公司", 4),
    ("天津市蓟州区长途汽车客运站", "停车场", _P_UQ, "天津市蓟州区恒通劳务派遣有限公司", 2),
    ("天津市蓟州区旅游客运中心", "候车大厅", _P_SC, "天津渔阳保安服务有限公司", 3),
    ("天津市蓟州区渔阳商贸城有限公司", "商贸城", _P_PC, "天津市蓟州区渔阳物业服务有限公司", 4),
]

# fmt: on

GUARD_COUNT = 200

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
    "苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史"
)
GIVEN_MALE = (
    "伟刚勇毅俊峰强军平保东文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜学祥才发"
    "武新利清飞彬富顺信子杰涛昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会思群豪"
    "心邦承乐绍功松善厚庆磊民友裕河哲江超浩亮政谦亨奇固之轮翰朗伯宏言若鸣朋斌梁栋维启"
    "克伦翔旭鹏泽晨辰士以建家致树炎德行时泰盛雄琛钧冠策腾楠榕风航弘"
)
GIVEN_FEMALE = (
    "秀娟英华慧巧美娜静淑惠珠翠雅芝玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹"
    "霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶"
    "怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希"
    "宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽"
)

# Birthplace codes: mostly Jizhou (120225, the former 蓟县), some neighbours.
AREA_CODES = (
    ("120225", 80),
    ("120221", 5),
    ("120114", 5),
    ("120223", 3),
    ("130229", 4),
    ("131082", 3),
)

PERIODIC_TOPICS = (
    "在岗培训：《保安服务管理条例》解读",
    "在岗培训：消防安全与应急处置",
    "在岗培训：职业道德与文明服务",
    "在岗培训：防暴器材使用与安全防范技能",
)
PRE_JOB_TOPIC = "岗前培训：法律法规、职业道德、保安业务知识与技能"


# --- the plan: every row, built without the database --------------------------------------


@dataclass
class Plan:
    townships: list[dict[str, Any]] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    campaign: dict[str, Any] = field(default_factory=dict)
    phases: list[dict[str, Any]] = field(default_factory=list)
    deadlines: list[dict[str, Any]] = field(default_factory=list)
    units: list[dict[str, Any]] = field(default_factory=list)
    sites: list[dict[str, Any]] = field(default_factory=list)
    guards: list[dict[str, Any]] = field(default_factory=list)
    trainings: list[dict[str, Any]] = field(default_factory=list)


def _rand_date(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, (end - start).days))


def _phone(rng: random.Random) -> str:
    return "13" + "".join(rng.choice("0123456789") for _ in range(9))


def _person_name(rng: random.Random, female: bool = False) -> str:
    given = GIVEN_FEMALE if female else GIVEN_MALE
    return rng.choice(SURNAMES) + "".join(rng.choice(given) for _ in range(rng.choice((1, 2))))


def _address(rng: random.Random, township: str) -> str:
    return f"天津市蓟州区{township}{rng.choice(TOWNSHIPS[township])}{rng.randint(1, 199)}号"


def _uscc(rng: random.Random, code: str, taken: set[str]) -> str:
    """A USCC with a valid organisation-code check (GB 11714) and check character."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    while True:
        area = rng.choice(("120225", "120225", "120119"))
        if code == "91":
            body8 = "MA0" + "".join(rng.choice(alphabet) for _ in range(5))
        else:
            body8 = "".join(rng.choice("0123456789") for _ in range(8))
        org = body8 + org_code_check_char(body8)
        first17 = code + area + org
        result = first17 + uscc_check_char(first17)
        if result not in taken:
            taken.add(result)
            return result


def _id_number(rng: random.Random, female: bool, taken: set[str]) -> tuple[str, date]:
    areas = [a for a, _ in AREA_CODES]
    weights = [w for _, w in AREA_CODES]
    while True:
        born = _rand_date(rng, date(1960, 1, 1), date(2000, 12, 31))
        seq = rng.randint(0, 99) * 10 + rng.choice((0, 2, 4, 6, 8) if female else (1, 3, 5, 7, 9))
        first17 = rng.choices(areas, weights)[0] + born.strftime("%Y%m%d") + f"{seq:03d}"
        number = first17 + id_check_digit(first17)
        if number not in taken:
            taken.add(number)
            return number, born


def build_plan(today: date | None = None) -> Plan:
    """Every demo row as plain dicts, references by natural key. Deterministic for a day."""
    rng = random.Random(SEED)
    plan = Plan()
    shift = shift_for(today)

    for i, name in enumerate(TOWNSHIPS, start=1):
        plan.townships.append({"name": name, "ordinal": i})

    bodies = [
        {
            "name": n,
            "short_name": s,
            "scope": sc.value,
            "sector": sec.value if sec else None,
            "township": t,
            "is_police": p,
        }
        for n, s, sc, sec, t, p in FIXED_BODIES
    ]
    bodies += [
        {
            "name": t,
            "short_name": t,
            "scope": BodyScope.township.value,
            "sector": None,
            "township": t,
            "is_police": False,
        }
        for t in TOWNSHIPS
        if t != DEV_ZONE  # the development zone reports through 开发区管委会
    ]
    # Every body has named its liaison, except one that is late with it (shown as overdue).
    contacts = random.Random(SEED + 1)
    for i, b in enumerate(bodies, start=1):
        b["ordinal"] = i
        late = b["name"] == LATE_BODY
        b["contact_name"] = "" if late else _person_name(contacts, female=contacts.random() < 0.4)
        b["contact_phone"] = "" if late else _phone(contacts)
    plan.bodies = bodies

    plan.campaign = {
        "name": CAMPAIGN_NAME,
        "district": "蓟州区",
        "starts_on": date(2020, 12, 14) + shift,
        "ends_on": date(2021, 2, 5) + shift,
        "weekly_weekday": 4,
        "weekly_from": date(2021, 1, 1) + shift,  # "every Friday after 12-25"
        "weekly_until": date(2021, 2, 5) + shift,
        "active": True,
        # Serialised here so the database holds readable Chinese (Piccolo's own dump
        # escapes non-ASCII characters as \uXXXX).
        "options": json.dumps(CAMPAIGN_OPTIONS, ensure_ascii=False),
    }
    plan.phases = [
        {"code": c, "name": n, "starts_on": s + shift, "ends_on": e + shift, "description": d, "ordinal": i}
        for i, (c, n, s, e, d) in enumerate(PHASES, start=1)
    ]
    deadlines = [{"kind": k, "title": t, "due_on": d + shift} for k, t, d in FIXED_DEADLINES]
    friday, n = WEEKLY_FIRST + shift, 1
    while friday <= WEEKLY_LAST + shift:
        deadlines.append({"kind": "weekly", "title": f"报送累计周报（第{n}期）", "due_on": friday})
        friday += timedelta(days=7)
        n += 1
    plan.deadlines = sorted(deadlines, key=lambda d: d["due_on"])

    # Units.
    usccs: set[str] = set()
    licence_serials = rng.sample(range(10, 100), len(UNITS))
    for (kind, name, sector, township, extra), serial in zip(UNITS, licence_serials):
        unit: dict[str, Any] = {
            "name": name,
            "kind": kind.value,
            "sector": sector.value,
            "township": township,
            "address": _address(rng, township),
            "uscc": None if kind == IL else _uscc(rng, extra.get("code", "91"), usccs),
            "licence_no": "",
            "filing_status": FilingStatus.not_required.value,
            "filing_no": "",
            "filed_on": None,
            "legal_rep": _person_name(rng),
            "contact_name": _person_name(rng, female=rng.random() < 0.4),
            "contact_phone": _phone(rng),
            "notes": extra.get("notes", ""),
        }
        if kind == SC:
            year = rng.choice((2011, 2013, 2016, 2018, 2019))
            unit["licence_no"] = f"津公保服许字[{year}]0{serial}号"
        if kind == IL:
            unit["legal_rep"] = ""
        filing = extra.get("filing")
        if filing is not None:
            unit["filing_status"] = filing.value
            if filing == FilingStatus.filed:
                filed_on = _rand_date(rng, date(2016, 3, 1), date(2020, 10, 31))
                unit["filed_on"] = filed_on
                unit["filing_no"] = f"津公蓟保备字[{filed_on.year}]{rng.randint(1, 120):03d}号"
        plan.units.append(unit)

    units_by_name = {u["name"]: u for u in plan.units}
    for unit_name, site_name, pkind, provider, posts in SITES:
        owner = units_by_name[unit_name]
        site_township = owner["township"]
        plan.sites.append(
            {
                "unit": unit_name,
                "name": site_name,
                "address": _address(rng, site_township),
                "township": site_township,
                "sector": owner["sector"],
                "provider_kind": pkind.value,
                "provider": provider,
                "posts": posts,
            }
        )

    # Guards: one per site first, so every employer has someone, then by posts.
    def employer_of(site: dict[str, Any]) -> str:
        return site["provider"] or site["unit"]

    slots = list(plan.sites) + rng.choices(
        plan.sites, weights=[s["posts"] for s in plan.sites], k=GUARD_COUNT - len(plan.sites)
    )
    cert_odds = {  # (valid, none, revoked) by employer kind
        SC.value: (0.90, 0.07, 0.03),
        PC.value: (0.78, 0.17, 0.05),
        SR.value: (0.76, 0.19, 0.05),
        UQ.value: (0.30, 0.60, 0.10),
    }
    id_numbers: set[str] = set()
    cert_nos: set[str] = set()
    for site in slots:
        employer = units_by_name[employer_of(site)]
        female = rng.random() < 0.12
        id_number, born = _id_number(rng, female, id_numbers)
        earliest = max(date(born.year + 18, born.month, 1), date(2010, 1, 1))
        hired_on = _rand_date(rng, earliest, date(2020, 11, 30))
        valid, none, _ = cert_odds[employer["kind"]]
        roll = rng.random()
        status = (
            CertStatus.valid
            if roll < valid
            else CertStatus.none if roll < valid + none else CertStatus.revoked
        )
        guard: dict[str, Any] = {
            "name": _person_name(rng, female),
            "id_number": id_number,
            "gender": "女" if female else "男",
            "phone": _phone(rng),
            "employer": employer["name"],
            "site": (site["unit"], site["name"]),
            "certificate_status": status.value,
            "certificate_no": None,
            "certificate_issued_on": None,
            "vetted": False,
            "exam_passed": False,
            "hired_on": hired_on,
        }
        if status == CertStatus.none:
            # Some have been vetted and are waiting for (or failed) the exam.
            guard["vetted"] = rng.random() < 0.4
            photo, finger = 0.45, 0.35
        else:
            while True:
                cert_no = "津保1202" + "".join(rng.choice("0123456789") for _ in range(8))
                if cert_no not in cert_nos:
                    cert_nos.add(cert_no)
                    break
            guard["certificate_no"] = cert_no
            guard["certificate_issued_on"] = _rand_date(
                rng, max(earliest, date(2011, 1, 1)), date(2020, 11, 30)
            )
            guard["vetted"] = True
            guard["exam_passed"] = True
            photo, finger = (0.93, 0.90) if status == CertStatus.valid else (0.8, 0.7)
        guard["photo_collected"] = rng.random() < photo
        guard["fingerprint_collected"] = rng.random() < finger
        plan.guards.append(guard)

        # Training: most had pre-job training; about half of those a periodic one in 2020.
        trained = rng.random() < (0.9 if employer["kind"] != UQ.value else 0.35)
        if trained:
            plan.trainings.append(
                {
                    "guard": id_number,
                    "kind": TrainingKind.pre_job.value,
                    "held_on": hired_on - timedelta(days=rng.randint(1, 10)),
                    "hours": 24,
                    "topic": PRE_JOB_TOPIC,
                }
            )
            if rng.random() < 0.55:
                plan.trainings.append(
                    {
                        "guard": id_number,
                        "kind": TrainingKind.periodic.value,
                        "held_on": _rand_date(
                            rng, max(hired_on, date(2020, 1, 6)), date(2020, 12, 10)
                        ),
                        "hours": 8,
                        "topic": rng.choice(PERIODIC_TOPICS),
                    }
                )
    return plan


# --- writing ---------------------------------------------------------------------------------


async def _ensure(
    table: type[Table],
    rows: list[dict[str, Any]],
    key_columns: list[Any],
    key_of: Callable[[dict[str, Any]], Hashable],
) -> tuple[dict[Hashable, int], int]:
    """Insert the rows whose natural key is not in the table yet.

    `key_of` computes a row's key from the same column names as `key_columns`, so it works
    both on the rows to write and on the rows read back. Returns (key -> id, created)."""

    async def existing() -> dict[Hashable, int]:
        found = await table.select(table._meta.primary_key, *key_columns)
        return {key_of(r): r["id"] for r in found}

    have = await existing()
    missing = [r for r in rows if key_of(r) not in have]
    if not missing:
        return have, 0
    await table.insert(*(table(**r) for r in missing))
    return await existing(), len(missing)


def _registered(i: int, shift: timedelta = timedelta(0)) -> dict[str, datetime]:
    """The registry was built during the survey phase (its first nine days), so reports as of
    any day of the campaign count it; spread the records over those days, deterministically."""
    at = datetime(2020, 12, 14, 1, 0, tzinfo=timezone.utc) + shift + timedelta(days=i % 9, minutes=(i * 37) % 480)
    return {"created_at": at, "updated_at": at}


async def seed_demo(today: date | None = None) -> dict[str, int]:
    """Write the demo data set; return how many rows of each kind were created."""
    plan = build_plan(today)
    shift = shift_for(today)
    counts: dict[str, int] = {}
    async with atomic():
        townships, counts["townships"] = await _ensure(
            Township, plan.townships, [Township.name], lambda r: r["name"]
        )

        bodies_rows = [{**b, "township": townships.get(b["township"])} for b in plan.bodies]
        bodies, counts["bodies"] = await _ensure(
            Body, bodies_rows, [Body.name], lambda r: r["name"]
        )

        campaigns, counts["campaigns"] = await _ensure(
            Campaign, [plan.campaign], [Campaign.name], lambda r: r["name"]
        )
        campaign_id = campaigns[CAMPAIGN_NAME]
        _, counts["phases"] = await _ensure(
            Phase,
            [{**p, "campaign": campaign_id} for p in plan.phases],
            [Phase.campaign, Phase.code],
            lambda r: (r["campaign"], r["code"]),
        )
        _, counts["deadlines"] = await _ensure(
            ReportingDeadline,
            [{**d, "campaign": campaign_id, "body": None} for d in plan.deadlines],
            [ReportingDeadline.campaign, ReportingDeadline.kind, ReportingDeadline.title],
            lambda r: (r["campaign"], r["kind"], r["title"]),
        )

        # Units are keyed by USCC; an illegal organisation has none and is keyed by name.
        def unit_key(r: dict[str, Any]) -> Hashable:
            return r["uscc"] or ("name", r["name"])

        unit_rows = [{**u, "township": townships[u["township"]], **_registered(i, shift)}
                     for i, u in enumerate(plan.units)]
        unit_ids, counts["units"] = await _ensure(Unit, unit_rows, [Unit.uscc, Unit.name], unit_key)
        unit_by_name = {u["name"]: unit_ids[unit_key(u)] for u in plan.units}

        site_rows = [
            {
                **s,
                "unit": unit_by_name[s["unit"]],
                "township": townships[s["township"]],
                "provider": unit_by_name[s["provider"]] if s["provider"] else None,
                **_registered(i, shift),
            }
            for i, s in enumerate(plan.sites)
        ]
        site_ids, counts["sites"] = await _ensure(
            Site, site_rows, [Site.unit, Site.name], lambda r: (r["unit"], r["name"])
        )

        guard_rows = [
            {
                **g,
                "employer": unit_by_name[g["employer"]],
                "site": site_ids[(unit_by_name[g["site"][0]], g["site"][1])],
                **_registered(i, shift),
            }
            for i, g in enumerate(plan.guards)
        ]
        guard_ids, counts["guards"] = await _ensure(
            Guard, guard_rows, [Guard.id_number], lambda r: r["id_number"]
        )

        # Every certified guard carries a printed card (serial 1), so the demo can be scanned.
        card_rows = [{"guard": guard_ids[g["id_number"]], "serial": 1, "issued_at": g["created_at"]}
                     for g in guard_rows if g["certificate_status"] == "valid"]
        _, counts["cards"] = await _ensure(
            GuardCard, card_rows, [GuardCard.guard, GuardCard.serial], lambda r: (r["guard"], r["serial"]))

        training_rows = [{**t, "guard": guard_ids[t["guard"]]} for t in plan.trainings]
        _, counts["training_records"] = await _ensure(
            TrainingRecord,
            training_rows,
            [TrainingRecord.guard, TrainingRecord.kind, TrainingRecord.held_on],
            lambda r: (r["guard"], r["kind"], _as_date(r["held_on"])),
        )

        existing_users = {r["username"] for r in await User.select(User.username)}
        new_users = [
            User(
                username=username,
                display_name=display,
                password_hash=hash_password(password),
                role=role,
                body=bodies[body_name],
            )
            for username, password, role, display, body_name in DEMO_ACCOUNTS
            if username not in existing_users
        ]
        if new_users:
            await User.insert(*new_users)
        counts["users"] = len(new_users)
    return counts


def _as_date(value: Any) -> date:
    """Dates read back are `date` on both engines; accept ISO strings defensively."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
