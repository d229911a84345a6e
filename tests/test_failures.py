"""When something breaks: a Chinese page (or, for htmx, a message in the toast) with an error
number that the one log record of the traceback carries too; ordinary refusals (404, 405)
are one log line without a traceback."""

from __future__ import annotations

import logging
import re

import pytest

from server.inspections import service as inspections
from tests.support.flow import new_id, start
from tests.support.html import soup, visible_text

HX = {"HX-Request": "true"}


@pytest.fixture
def broken_findings(monkeypatch):
    async def fail(*args, **kwargs):
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(inspections, "add_finding", fail)


def records(caplog, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "server.errors" and r.levelno == level]


async def test_an_unexpected_error_is_a_chinese_page_with_the_number_of_its_log_record(
        client_factory, world, broken_findings, caplog):
    c = await client_factory("officer")
    key = await start(c, world.sites.school.id)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="server.errors"):
        r = await c.post(f"/inspections/{key}/findings", data={
            "uuid": new_id(), "area": "4", "stat_column": "", "quantity": "1", "text": "挂靠经营"})
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
    text = visible_text(soup(r))
    assert "服务器出错，本次操作没有完成" in text and "您填写的内容仍在页面上，没有丢失" in text
    ref = re.search(r"错误编号 ([0-9A-F]{8})", text).group(1)
    assert r.headers["x-error-ref"] == ref
    logged = records(caplog, logging.ERROR)
    assert len(logged) == 1 and ref in logged[0].getMessage()
    assert logged[0].exc_info and "the disk went away" in str(logged[0].exc_info[1])


async def test_an_unexpected_error_under_htmx_goes_to_the_toast_and_leaves_the_form(
        client_factory, world, broken_findings, caplog):
    c = await client_factory("officer")
    key = await start(c, world.sites.school.id)
    with caplog.at_level(logging.INFO, logger="server.errors"):
        r = await c.post(f"/inspections/{key}/findings", headers=HX, data={
            "uuid": new_id(), "area": "4", "stat_column": "", "quantity": "1", "text": "挂靠经营"})
    assert r.status_code == 500
    assert (r.headers["hx-retarget"], r.headers["hx-reswap"]) == ("#toast", "innerHTML")
    message = visible_text(soup(r))
    assert message.startswith("服务器出错，本次操作没有完成：您填写的内容仍在页面上，没有丢失")
    assert f"错误编号 {r.headers['x-error-ref']}" in message


async def test_405_and_404_are_one_line_without_a_traceback(client_factory, world, caplog):
    c = await client_factory("officer")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="server.errors"):
        r = await c.post("/sites", data={"q": "x"})
        assert r.status_code == 405 and "此操作不可用，请刷新页面后重试" in visible_text(soup(r))
        r = await c.post("/sites", data={"q": "x"}, headers=HX)
        assert r.status_code == 405 and r.headers["hx-retarget"] == "#toast"
        r = await c.get("/no-such-page")
        assert r.status_code == 404 and "页面或记录不存在" in visible_text(soup(r))
    lines = [r for r in caplog.records if r.name == "server.errors"]
    assert [(r.levelno, r.exc_info) for r in lines] == [(logging.INFO, None)] * 3
    assert "POST /sites → 405" in lines[0].getMessage() and "GET /no-such-page → 404" in lines[2].getMessage()
    assert not [r for r in caplog.records if r.exc_info]
