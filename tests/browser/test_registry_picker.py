"""The registry's search picker in Chromium, with a registry too big for a <select>: the
office finds a unit by part of its name, picks it and saves the guard."""

from __future__ import annotations

import re

from playwright.async_api import expect

from server.registry import service
from server.models.registry import Guard, Unit
from server.vocab import UnitKind
from tests.browser.conftest import log_in
from tests.test_registry_screens import ID1


async def test_office_finds_a_unit_by_part_of_its_name_and_saves_the_guard(desk, world):
    await Unit.insert(*[Unit(name=f"测试物业{i:04d}", kind=UnitKind.using_unit)
                        for i in range(service.SELECT_MAX)])
    page = desk
    await log_in(page, "office")
    await page.goto("/registry/guards/new")
    await expect(page.locator("select[name=employer]")).to_have_count(0)
    await page.locator("input[name=name]").fill("孙明")
    await page.locator("input[name=id_number]").fill(ID1)

    search = page.get_by_label("查找所属单位")
    await search.fill("绿园")
    choice = page.get_by_role("radio", name="蓟州区绿园物业服务有限公司")
    await expect(choice).to_be_visible()
    await choice.check()
    # Another search keeps the choice made, checked, above the new matches.
    await search.fill("测试物业001")
    await expect(page.get_by_role("radio", name="测试物业0010")).to_be_visible()
    await expect(page.get_by_role("radio", name="蓟州区绿园物业服务有限公司")).to_be_checked()
    # Enter in the search box searches; it does not save the form.
    await search.fill("安泰")
    await search.press("Enter")
    await expect(page.get_by_role("radio", name="蓟州区安泰保安服务有限公司")).to_be_visible()
    assert "/registry/guards/new" in page.url

    await page.get_by_role("button", name="保存", exact=True).last.click()
    await page.wait_for_url(re.compile(r"/registry/guards/\d+$"))
    await expect(page.locator("main")).to_contain_text("蓟州区绿园物业服务有限公司")
    guard = await Guard.objects().where(Guard.id_number == ID1).first()
    assert guard.employer == world.units.estate_co.id
