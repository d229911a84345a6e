"""create_app(): plugins, templates, routers, lifespan — wiring only."""

from __future__ import annotations

import gc
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

import anyio

from litestar import Litestar, Request, Response, get
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.logging.config import LoggingConfig
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
)
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from server import db, failures
from server.audit import routes as audit_routes
from server.audit import views
from server.audit.downloads import log_download
from server.auth import routes as auth_routes
from server.auth.guards import SessionMiddleware, access_guard
from server.cards import routes as card_routes
from server.campaign import routes as campaign_routes
from server.cli import CLIPlugin
from server.dashboard import routes as dashboard_routes
from server.documents import routes as document_routes
from server.evidence import routes as evidence_routes
from server.home import routes as home_routes
from server.inspections import routes as inspection_routes
from server.ledger import routes as ledger_routes
from server.pwa import routes as pwa_routes
from server.rectification import routes as rectification_routes
from server.registry import routes as registry_routes
from server.registry import survey_routes
from server.reports import routes as report_routes
from server.review import routes as review_routes
from server.settings import Settings
from server.storage import make_store
from server.templating import make_template_engine
from server.errors import Conflict, FormError
from server.headers import add_security_headers
from server.web import CSRF_COOKIE, is_htmx, sane_path

ROOT = Path(__file__).resolve().parent.parent


@get("/healthz", opt={"public": True}, include_in_schema=False)
async def healthz(request: Request) -> Response:
    state = {"database": "ok", "storage": "ok"}
    checks = {"database": db.ping, "storage": request.app.state.store.ping}
    for name, ping in checks.items():
        try:
            with anyio.fail_after(5):  # a hung dependency is a failed one
                await ping()
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            state[name] = f"error: {type(exc).__name__}"
    ok = all(v == "ok" for v in state.values())
    return Response({"status": "ok" if ok else "error", **state}, status_code=200 if ok else 503)


def _error_page(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    if isinstance(exc, NotAuthorizedException):
        login = f"/login?next={request.url.path}"
        if is_htmx(request):
            return Response(content="", status_code=401, headers={"HX-Redirect": login})
        if request.method == "GET":
            return Response(content="", status_code=303, headers={"Location": login})
    message = {
        401: "请先登录",
        403: "您无权执行此操作",
        404: "页面或记录不存在",
        **failures.MESSAGES,
    }.get(status, "请求无法处理")
    detail = exc.detail if isinstance(exc.detail, str) else ""
    if "CSRF" in detail:
        message, detail = "页面已过期，请刷新页面后重试", ""
    if status in failures.MESSAGES:
        detail = ""  # Litestar's English text ("Method Not Allowed") adds nothing
    if status >= 500:
        message, detail = "服务器出错，本次操作没有完成", "您填写的内容仍在页面上，没有丢失，请稍后重试"
    return failures.answer(request, status, message, detail=detail, ref=request.scope.get("error_ref", ""))


def _refused(request: Request, exc: Exception) -> Response:
    """A FormError or Conflict that no handler answered in its own page (web.act does for the
    forms): the error page or fragment, 422 or 409, with the message."""
    status = 422 if isinstance(exc, FormError) else 409
    message = next(iter(exc.errors.values()), "请求无法处理") if isinstance(exc, FormError) else str(exc)
    template = "_error_fragment.html" if is_htmx(request) else "error.html"
    html = request.app.template_engine.get_template(template).render(
        request=request, message=message, detail="", status=status)
    return Response(content=html, status_code=status, media_type="text/html")


def create_app(settings: Settings) -> Litestar:
    """The app, from settings read once at the process's edge (server/asgi.py, the tests):
    handlers and commands find them in app.state.settings; the database engine is built from
    them and installed for every table (server/db.py)."""
    engine = db.install(db.make_engine(settings))
    store = make_store(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        from server import jobs, lifecycle
        from server.ledger import exports, tally
        from server.registry import import_jobs

        await db.start(engine)
        await store.ensure_ready()
        try:
            # Expiry of exports/ and imports/; on shutdown, running export jobs and roster
            # checks may finish.
            async with lifecycle.running(store, settings,
                                         lambda: exports.running_jobs() | import_jobs.running_jobs()
                                         | jobs.running_jobs()):
                # What exists once the app has started (modules, the app, its templates, the
                # pools) lives as long as the process: out of the collector's sight, a full
                # collection walks only what requests made since. Under load those ran every
                # few seconds and took ~90 ms each on the benchmark machine, a stop of the event
                # loop; now ~2 ms (bench/README.md, section 1).
                gc.collect()
                gc.freeze()
                async with tally.keeping():  # the statistics tallies folded now and then
                    yield
        finally:
            await views.flush()  # the queued access-log rows of the last card views
            await db.stop(engine)

    app = Litestar(
        route_handlers=[
            healthz,
            *auth_routes.route_handlers,
            *home_routes.route_handlers,
            *registry_routes.route_handlers,
            *survey_routes.route_handlers,
            *inspection_routes.route_handlers,
            *evidence_routes.route_handlers,
            *review_routes.route_handlers,
            *audit_routes.route_handlers,
            *card_routes.route_handlers,
            *ledger_routes.route_handlers,
            *dashboard_routes.route_handlers,
            *document_routes.route_handlers,
            *rectification_routes.route_handlers,
            *report_routes.route_handlers,
            *campaign_routes.route_handlers,
            *pwa_routes.route_handlers,
            create_static_files_router(path="/static", directories=[ROOT / "static"],
                                       opt={"public": True}, name="static", include_in_schema=False),
        ],
        template_config=TemplateConfig(directory=ROOT / "templates", engine=JinjaTemplateEngine,
                                       engine_callback=make_template_engine),
        plugins=[HTMXPlugin(), CLIPlugin()],
        csrf_config=CSRFConfig(secret=settings.secret_key, cookie_name=CSRF_COOKIE,
                               cookie_secure=settings.cookie_secure, cookie_samesite="lax", exclude=["/healthz"]),
        # gzip level 6, not Litestar's 9: a province's statistics table (900 KB of HTML)
        # compresses in a third of the time (~12 against ~36 ms), 13 % larger (68 against 60 KB).
        compression_config=CompressionConfig(backend="gzip", minimum_size=500, gzip_compress_level=6),
        middleware=[SessionMiddleware()],
        guards=[access_guard],
        before_request=sane_path,
        before_send=[add_security_headers, log_download],
        exception_handlers={HTTPException: _error_page, FormError: _refused, Conflict: _refused,
                            Exception: failures.server_error},
        lifespan=[lifespan],
        request_max_body_size=(settings.max_upload_mb + 1) * 1024 * 1024,
        debug=settings.debug,
        logging_config=LoggingConfig(log_exceptions="always", exception_logging_handler=failures.log_exception),
        openapi_config=None,
    )
    # Templates are read once: checking every template file's mtime on each render (Jinja's
    # auto_reload) cost every page several stat calls. DEBUG=true reloads edited templates.
    app.template_engine.engine.auto_reload = settings.debug
    app.state.settings = settings
    app.state.engine = engine
    app.state.store = store
    return app
