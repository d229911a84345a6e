"""Guard cards over HTTP: the page behind the QR code (visitor vs officer), reissue and revoke,
scanning into an inspection (reading, photo, typed number), card sheets and the PNG."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io

import httpx
from PIL import Image

from server.cards import qr, service, tokens
from server.models.evidence import AccessLog
from server.models.inspections import Finding, GuardCheck
from server.registry.ids import id_check_digit
from server.models.registry import Guard, GuardCard, TrainingRecord
from server.registry import service as registry_service
from server.vocab import CardVerdict
from tests.support.flow import new_id, start
from tests.support.html import errors, soup, visible_text

ID_NUMBER = "12022519850312003" + id_check_digit("12022519850312003")


async def issue(settings, c: httpx.AsyncClient, guard_id: int) -> str:
    r = await c.post(f"/cards/guards/{guard_id}/issue")
    assert r.status_code == 303, r.text
    card = await registry_service.current_card(guard_id)
    return service.card_url(settings, guard_id, card["serial"])


def path_of(url: str) -> str:
    return url[url.index("/c/"):]


def verdict(r) -> str:
    banner = soup(r).select_one(".verdict")
    label = visible_text(banner)
    code = {"有效": "valid", "无证": "no_certificate", "证件已注销": "revoked", "非本单位": "other_unit",
            "无法识别(可能伪造)": "unrecognised"}[label]
    assert f"verdict-{code}" in banner["class"]  # the colour of the banner follows the verdict
    return label


async def test_visitor_sees_validity_and_company_but_no_personal_data(settings, client_factory, client, world):
    await Guard.update({Guard.id_number: ID_NUMBER}).where(Guard.id == world.guards.valid.id)
    office = await client_factory("office")
    url = await issue(settings, office, world.guards.valid.id)
    assert url.startswith(settings.base_url + "/c/")
    r = await client.get(path_of(url))
    assert r.status_code == 200
    page = visible_text(soup(r).select_one("main"))
    assert verdict(r) == "有效"
    assert "蓟州区安泰保安服务有限公司" in page
    everything_shown = visible_text(soup(r))
    for private in ("张伟", "津保120200000001", ID_NUMBER, "/portrait"):
        assert private not in r.text
    # The last digits alone, only in what is shown: the page's random CSRF token may hold them.
    assert ID_NUMBER[-4:] not in everything_shown
    assert soup(r).select(".efile") == []
    assert "登录" in page


async def test_officer_sees_the_guard_file_with_masked_id_and_the_view_is_logged(settings, client_factory, world):
    await Guard.update({Guard.id_number: ID_NUMBER}).where(Guard.id == world.guards.valid.id)
    office = await client_factory("office")
    url = await issue(settings, office, world.guards.valid.id)
    officer = await client_factory("officer")
    r = await officer.get(path_of(url))
    page = soup(r)
    assert verdict(r) == "有效"
    text = visible_text(page.select_one("main"))
    assert "张伟" in text and "津保120200000001" in text
    assert "1202*" in text and ID_NUMBER not in r.text
    # The view's row is committed within milliseconds (group commit, audit/views.py).
    views = AccessLog.count().where((AccessLog.action == "guard_view")
                                    & (AccessLog.object_id == str(world.guards.valid.id)))
    for _ in range(100):
        if await views:
            break
        await asyncio.sleep(0.02)
    assert await views == 1
    # Deliberate reveal: the full number, logged as pii_reveal.
    r = await officer.post(f"/registry/guards/{world.guards.valid.id}/reveal", headers={"HX-Request": "true"})
    assert ID_NUMBER in visible_text(soup(r))
    assert await AccessLog.count().where(AccessLog.action == "pii_reveal") == 1


async def test_card_page_sets_no_cookie_for_a_visitor_and_its_forms_work_for_an_officer(settings, client_factory,
                                                                                         client, world):
    await Guard.update({Guard.id_number: ID_NUMBER}).where(Guard.id == world.guards.valid.id)
    office = await client_factory("office")
    url = await issue(settings, office, world.guards.valid.id)
    reveal = f"/registry/guards/{world.guards.valid.id}/reveal"

    def form_token(r) -> str:
        return soup(r).select_one(f"form[action='{reveal}'] input[name=_csrf_token]")["value"]

    # Anyone's phone camera: the verdict, and no cookie of any kind.
    r = await client.get(path_of(url))
    assert verdict(r) == "有效"
    assert "set-cookie" not in r.headers and not client.cookies

    # An officer whose browser kept the session but not the CSRF cookie (it lasts as long as the
    # browser is open): the page sets a new one, and the page's reveal form passes with it.
    officer = await client_factory("officer")
    del officer.headers["x-csrftoken"]
    officer.cookies.delete("csrftoken")
    r = await officer.get(path_of(url))
    assert "csrftoken" in r.cookies
    assert form_token(r) == officer.cookies["csrftoken"]
    r = await officer.post(reveal, headers={"HX-Request": "true"}, data={"_csrf_token": form_token(r)})
    assert r.status_code == 200 and ID_NUMBER in visible_text(soup(r))

    # With the cookie kept, the page sets none and its forms carry the cookie's token.
    r = await officer.get(path_of(url))
    assert "set-cookie" not in r.headers
    assert form_token(r) == officer.cookies["csrftoken"]
    r = await officer.post(reveal, headers={"HX-Request": "true"}, data={"_csrf_token": form_token(r)})
    assert r.status_code == 200 and ID_NUMBER in visible_text(soup(r))
    # A token the page did not give still fails.
    other = await client_factory("officer")
    r = await officer.post(reveal, headers={"HX-Request": "true"}, data={"_csrf_token": other.cookies["csrftoken"]})
    assert r.status_code == 403
    assert await AccessLog.count().where(AccessLog.action == "pii_reveal") == 2


async def test_officer_sees_the_guards_training_records_latest_first(settings, client_factory, world):
    gid = world.guards.valid.id
    office = await client_factory("office")
    url = await issue(settings, office, gid)
    officer = await client_factory("officer")
    r = await officer.get(path_of(url))
    assert "没有培训记录" in visible_text(soup(r).select_one("#training"))

    for held_on, topic in [("2024-03-01", "法律法规"), ("2025-06-15", "消防技能"), ("2023-01-10", "职业道德"),
                           ("2025-06-15", "急救")]:
        await TrainingRecord(guard=gid, kind="periodic", hours=8, topic=topic,
                             held_on=dt.date.fromisoformat(held_on)).save()
    await TrainingRecord(guard=world.guards.estate.id, kind="pre_job", hours=4, topic="另一名保安员",
                         held_on=dt.date(2025, 1, 1)).save()
    r = await officer.get(path_of(url))
    training = soup(r).select_one("#training")
    assert "培训记录（4）" in visible_text(training)
    rows = [[visible_text(td) for td in tr.select("td")] for tr in training.select("tbody tr")]
    assert [(row[0], row[3]) for row in rows] == [
        ("2025-06-15", "消防技能"), ("2025-06-15", "急救"), ("2024-03-01", "法律法规"), ("2023-01-10", "职业道德")]
    assert rows[0][2] == "8"
    # read with the card, the records are what the office's guard page reads
    result = await service.check(settings, url, with_file=True)
    assert result.training == await registry_service.guard_training(gid)


async def test_reissue_revokes_the_old_card(settings, client_factory, client, world):
    office = await client_factory("office")
    first = await issue(settings, office, world.guards.valid.id)
    second = await issue(settings, office, world.guards.valid.id)
    assert first != second
    r = await client.get(path_of(first))
    assert verdict(r) == "证件已注销"
    assert "已补发新卡" in visible_text(soup(r).select_one(".reason"))
    assert verdict(await client.get(path_of(second))) == "有效"
    # The guard's page says which card is current and that the old one is void.
    page = visible_text(soup(await office.get(f"/registry/guards/{world.guards.valid.id}")).select_one("#card"))
    assert "当前卡号 2" in page and "1（" in page
    # Withdrawing the card without a new one.
    await office.post(f"/cards/guards/{world.guards.valid.id}/revoke")
    assert verdict(await client.get(path_of(second))) == "证件已注销"


async def test_forged_tampered_and_foreign_codes_are_unrecognised(settings, client_factory, client, world):
    office = await client_factory("office")
    url = await issue(settings, office, world.guards.valid.id)
    token = url.rsplit("/", 1)[1]
    forged = tokens.sign(tokens.private_key("ab" * 32), world.guards.valid.id, 1)
    tampered = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    for bad in (forged, tampered, "not-a-card"):
        r = await client.get(f"/c/{bad}")
        assert r.status_code == 200
        assert verdict(r) == "无法识别(可能伪造)"
        assert "安泰" not in r.text
    # A genuine signature for a card that was never issued (e.g. serial 9).
    ghost = tokens.sign(service.signing_key(settings), world.guards.valid.id, 9)
    assert verdict(await client.get(f"/c/{ghost}")) == "无法识别(可能伪造)"


async def test_a_card_is_checked_by_the_hash_it_keeps_else_by_its_signature(settings, client_factory, client,
                                                                           world, monkeypatch):
    office = await client_factory("office")
    gid = world.guards.valid.id
    url = await issue(settings, office, gid)
    token = url.rsplit("/", 1)[1]
    card = await GuardCard.select().where(GuardCard.guard == gid).first()
    assert card["token_hash"] == tokens.token_hash(service.signing_key(settings), token)
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]  # in the signature

    def no_signature_check(*args):
        raise AssertionError("the signature was checked")

    # The issued card's scans are checked by its hash, without the signature arithmetic.
    with monkeypatch.context() as m:
        m.setattr(tokens, "verify_own", no_signature_check)
        assert verdict(await client.get(path_of(url))) == "有效"
    assert verdict(await client.get(f"/c/{tampered}")) == "无法识别(可能伪造)"
    # A card recorded without its hash (issued before hashes were kept) is checked by its signature …
    await GuardCard.update({GuardCard.token_hash: None}).where(GuardCard.id == card["id"])
    assert verdict(await client.get(path_of(url))) == "有效"
    assert verdict(await client.get(f"/c/{tampered}")) == "无法识别(可能伪造)"
    # … until `cards hash` records it (once).
    assert await service.record_token_hashes(settings) == 1
    assert await service.record_token_hashes(settings) == 0
    assert (await GuardCard.select().where(GuardCard.id == card["id"]).first())["token_hash"] == card["token_hash"]
    # A new CARD_SIGNING_KEY: the printed card is refused although its row keeps a hash (made with
    # the old key); the card printed again with the new key is accepted, and hashed anew.
    rotated = dataclasses.replace(settings, card_signing_key="cd" * 32)
    assert (await service.check(rotated, url)).verdict == CardVerdict.unrecognised
    reprinted = service.card_url(rotated, gid, card["serial"])
    assert (await service.check(rotated, reprinted)).verdict == CardVerdict.valid
    assert await service.record_token_hashes(rotated) == 1
    with monkeypatch.context() as m:
        m.setattr(tokens, "verify_own", no_signature_check)
        assert (await service.check(rotated, reprinted)).verdict == CardVerdict.valid


async def test_certificate_revoked_after_the_card_was_printed(settings, client_factory, client, world):
    office = await client_factory("office")
    url = await issue(settings, office, world.guards.valid.id)
    await Guard.update({Guard.certificate_status: "revoked"}).where(Guard.id == world.guards.valid.id)
    r = await client.get(path_of(url))
    assert verdict(r) == "证件已注销" and "保安员证已被注销" in r.text


async def test_no_card_for_a_guard_without_certificate(client_factory, world):
    office = await client_factory("office")
    r = await office.post(f"/cards/guards/{world.guards.none.id}/issue")
    assert r.status_code == 409
    assert "李强 未持有效保安员证，不能制卡" in visible_text(soup(r))
    assert await GuardCard.count() == 0


# ---------------------------------------------------------------- scanning at the site

async def scan(c, key, **data):
    files = data.pop("files", None)
    return await c.post(f"/inspections/{key}/scan", data={"uuid": new_id(), **data}, files=files,
                        headers={"HX-Request": "true"})


async def test_scans_add_guards_with_their_verdicts(settings, client_factory, world):
    office = await client_factory("office")
    valid_url = await issue(settings, office, world.guards.valid.id)
    estate_url = await issue(settings, office, world.guards.estate.id)
    officer = await client_factory("officer")
    key = await start(officer, world.sites.school.id)

    r = await scan(officer, key, code=valid_url)
    assert r.status_code == 200, r.text
    result = soup(r).select_one("#scan-result")
    assert visible_text(result.select_one(".verdict")) == "有效"
    assert "张伟" in visible_text(result) and "已加入本次检查名单" in visible_text(result)

    # The estate's guard at the school: a genuine card, but not a guard of this site's units.
    r = await scan(officer, key, code=estate_url)
    assert visible_text(soup(r).select_one("#scan-result .verdict")) == "非本单位"

    # A forged card: the holder is recorded as unrecognised, which counts as working without a certificate.
    forged = tokens.card_url("http://evil.example", tokens.sign(tokens.private_key("cd" * 32), world.guards.valid.id, 1))
    r = await scan(officer, key, code=forged)
    assert visible_text(soup(r).select_one("#scan-result .verdict")) == "无法识别(可能伪造)"
    assert "签名无效" in visible_text(soup(r).select_one("#scan-result"))

    checks = await GuardCheck.select(GuardCheck.guard, GuardCheck.verdict).order_by(GuardCheck.id)
    assert [(c["guard"], c["verdict"]) for c in checks] == [
        (world.guards.valid.id, "valid"), (world.guards.estate.id, "other_unit"), (None, "unrecognised")]
    assert await Finding.count().where(Finding.stat_column == 15) == 1

    # The same guard twice is refused with a message beside the scanner.
    r = await scan(officer, key, code=valid_url)
    assert r.status_code == 422
    assert "张伟 已在本次检查的名单中" in errors(r)


def _photo_of(url: str) -> bytes:
    card = qr.card_image(url=url, name="张伟", certificate_no="津保120200000001", employer="安泰",
                         serial=1, issued_on="2020-12-20")
    scene = Image.new("RGB", (1200, 900), (120, 110, 100))
    scene.paste(card.resize((760, 480)).rotate(8, expand=True, fillcolor=(120, 110, 100)), (200, 180))
    out = io.BytesIO()
    scene.save(out, format="JPEG", quality=45)
    return out.getvalue()


async def test_photo_of_the_card_is_decoded_on_the_server(settings, client_factory, world):
    office = await client_factory("office")
    url = await issue(settings, office, world.guards.valid.id)
    officer = await client_factory("officer")
    key = await start(officer, world.sites.school.id)
    r = await scan(officer, key, files={"card_photo": ("card.jpg", _photo_of(url), "image/jpeg")})
    assert r.status_code == 200, r.text
    assert visible_text(soup(r).select_one("#scan-result .verdict")) == "有效"

    blank = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 200, 200)).save(blank, format="JPEG")
    r = await scan(officer, key, files={"card_photo": ("x.jpg", blank.getvalue(), "image/jpeg")})
    assert r.status_code == 422
    assert any("照片中没有找到二维码" in e for e in errors(r))
    r = await scan(officer, key, files={"card_photo": ("x.jpg", b"not an image", "image/jpeg")})
    assert r.status_code == 422 and any("不是有效的图片" in e for e in errors(r))
    r = await scan(officer, key)
    assert r.status_code == 422 and any("请扫描二维码" in e for e in errors(r))
    assert await GuardCheck.count() == 1


async def test_scan_without_javascript_redirects_to_the_guard(settings, client_factory, world):
    office = await client_factory("office")
    url = await issue(settings, office, world.guards.valid.id)
    officer = await client_factory("officer")
    key = await start(officer, world.sites.school.id)
    r = await officer.post(f"/inspections/{key}/scan", data={"uuid": new_id(), "code": url})
    check = await GuardCheck.objects().first()
    assert r.status_code == 303 and r.headers["location"] == f"/inspections/{key}#guard-{check.id}"
    page = soup(await officer.get(f"/inspections/{key}"))
    assert visible_text(page.select_one(f"#guard-{check.id} .verdict")) == "有效"
    assert page.select_one("form[data-scanner] input[name=card_photo][capture=environment]") is not None


async def test_standalone_scan_page_checks_reading_or_typed_number(settings, client_factory, world):
    office = await client_factory("office")
    url = await issue(settings, office, world.guards.valid.id)
    officer = await client_factory("officer")
    page = soup(await officer.get("/scan"))
    assert page.select_one("form[data-scanner][action='/scan']") is not None
    r = await officer.post("/scan", data={"code": url})
    assert verdict(r) == "有效" and "张伟" in r.text
    r = await officer.post("/scan", data={"certificate_no": "津保120200000001"})
    assert verdict(r) == "有效"
    r = await officer.post("/scan", data={"certificate_no": "津保999"})
    assert r.status_code == 422 and "名册中没有保安员证号 津保999" in " ".join(errors(r))


# ---------------------------------------------------------------- printing

async def test_card_sheet_for_a_unit_issues_missing_cards_and_prints(client_factory, world):
    office = await client_factory("office")
    r = await office.get(f"/cards/sheet?unit={world.units.secco.id}")
    page = soup(r)
    assert page.select(".id-card") == []
    missing = visible_text(page.select_one("#missing"))
    assert "张伟" in missing and "李强（无有效保安员证，不能制卡）" in missing
    ids = [i["value"] for i in page.select("#missing input[name=guard]")]
    r = await office.post("/cards/sheet/issue", data={"guard": ids})
    assert r.status_code == 409  # 李强 and 王磊 cannot get cards; 张伟 got one
    assert "李强 未持有效保安员证，不能制卡" in " ".join(errors(r))
    cards = soup(r).select(".id-card")
    assert len(cards) == 1
    text = visible_text(cards[0])
    assert "张伟" in text and "津保120200000001" in text and "蓟州区安泰保安服务有限公司" in text
    assert cards[0].select_one(".id-qr svg path") is not None
    assert await GuardCard.count() == 1
    # Printing again never reissues.
    r = await office.get(f"/cards/sheet?guard={world.guards.valid.id}")
    assert len(soup(r).select(".id-card")) == 1 and await GuardCard.count() == 1


async def test_card_png_decodes_to_the_card_url(settings, client_factory, world):
    office = await client_factory("office")
    url = await issue(settings, office, world.guards.valid.id)
    r = await office.get(f"/cards/guards/{world.guards.valid.id}/card.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(r.content)).size == (1011, 638)
    assert qr.decode_photo(r.content) == [url]


async def test_public_key_verifies_issued_tokens(settings, client_factory, client, world):
    office = await client_factory("office")
    url = await issue(settings, office, world.guards.valid.id)
    body = (await client.get("/cards/public-key")).json()
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(body["key"] + "="))
    assert body["alg"] == "Ed25519"
    assert tokens.verify(key, url.rsplit("/", 1)[1]).ok
