"""Freezing a district week (the police branch's report, the week page's 提交) as a background
job with progress: a province's week counts a million records and writes the ids behind
every number, which takes seconds, too long for one request.

`start` checks what the office may submit (refusals come back at once, as before), then runs
service.freeze_week as a job of this process (server/jobs.py); its status lives in the object
store under ``weekly/<campaign>-<day>/`` and the week page polls it. A retried click, a second
tab or another app process never freezes twice: the job of a week already running is found
(in this process by name, in another by its status), and the freeze itself writes in one
transaction that re-checks the week's unique key (service._freeze), so a twin that lost the
race ends as done, not as a second report.
"""

from __future__ import annotations

import datetime as dt
import logging

from server import jobs
from server.auth.scope import CurrentUser
from server.errors import Conflict
from server.ledger import service
from server.models.campaign import Campaign
from server.storage import ObjectStore

log = logging.getLogger(__name__)

PREFIX = "weekly"
STALE_AFTER = dt.timedelta(minutes=2)
BROKE_OFF = "周报冻结已中断，请重新报送"
STAGES = ("unit", "guard", "finding", "outcome", "write")
STAGE_LABELS = {"unit": "单位", "guard": "保安员", "finding": "问题", "outcome": "整改结果", "write": "写入周报"}


def job_key(campaign_id: int, day: dt.date) -> str:
    return f"{campaign_id}-{day.isoformat()}"


async def status_of(store: ObjectStore, campaign_id: int, day: dt.date) -> dict | None:
    """The freeze job of the week (None: none started), with `percent` and `stage_label`."""
    status = await jobs.read_status(store, PREFIX, job_key(campaign_id, day), STALE_AFTER, BROKE_OFF)
    if status is None:
        return None
    stage = status.get("stage", STAGES[0])
    status["percent"] = 100 if status["state"] == "done" else int(STAGES.index(stage) * 100 / len(STAGES))
    status["stage_label"] = STAGE_LABELS.get(stage, "")
    return status


async def start(store: ObjectStore, user: CurrentUser, campaign: Campaign, day: dt.date, today: dt.date) -> None:
    """Start freezing the week unless a freeze of it is already running (then nothing: the
    page shows that one's progress). Refusals (role, day, submitted) are raised here."""
    week = await service.check_submit(user, campaign, day, today)
    key = job_key(campaign.id, day)
    if jobs.is_running(f"{PREFIX}/{key}"):
        return
    running = await status_of(store, campaign.id, day)
    if running is not None and running["state"] == "running":
        return  # another process runs it
    status = {"key": key, "state": "running", "stage": STAGES[0], "records": 0, "message": "",
              "user_id": user.id, "started_at": jobs.now_text()}
    await jobs.put_status(store, PREFIX, key, status)
    jobs.spawn(f"{PREFIX}/{key}", _run(store, user, campaign, week, status))


async def _run(store: ObjectStore, user: CurrentUser, campaign: Campaign, week, status: dict) -> None:
    key = status["key"]
    last = [0.0]

    async def progress(stage: str, records: int) -> None:
        status.update(stage=stage, records=records)
        now = dt.datetime.now().timestamp()
        if stage == "write" or now - last[0] >= 0.5:  # not a store write per batch
            last[0] = now
            await jobs.put_status(store, PREFIX, key, status)

    try:
        await service.freeze_week(user, campaign, week, progress)
        status.update(state="done", stage="write")
    except Conflict:  # frozen meanwhile (another process's job, or the same click twice)
        status.update(state="done", stage="write")
    except Exception as exc:  # noqa: BLE001 - reported on the week page
        log.exception("weekly freeze %s failed", key)
        status.update(state="failed", message=f"周报冻结失败（{type(exc).__name__}），请重新报送")
    status["finished_at"] = jobs.now_text()
    await jobs.put_status(store, PREFIX, key, status)
