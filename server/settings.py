"""One settings object, read from the environment once, at the process's edge (server/asgi.py)
and handed down from there: create_app(settings) keeps it in app.state.settings.

Every field is documented in README.md ("Configuration"). The embedded default writes
everything under DATA_DIR, so two instances with two DATA_DIRs never share state.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    """Where the embedded default keeps the SQLite file, local objects and the dev secret."""
    database_url: str | None
    """postgresql://user:pass@host:port/db selects PostgreSQL; unset means SQLite in data_dir."""
    secret_key: str
    """Signs CSRF tokens. Generated once into data_dir/secret_key when unset."""
    minio_endpoint: str | None
    """host:port of MinIO / S3; unset means photos go to data_dir/objects."""
    minio_access_key: str
    minio_secret_key: str
    minio_bucket: str
    minio_secure: bool
    minio_region: str | None
    base_url: str
    """Public URL of the app, used in QR codes and printed notices."""
    card_signing_key: str
    """Ed25519 private key (32-byte seed, 64 hex digits) that signs guard-card QR tokens.
    Generated once into data_dir/card_signing_key when unset."""
    cookie_secure: bool
    """Send cookies only over HTTPS (set true behind the TLS proxy)."""
    session_hours: int
    session_idle_minutes: int
    """A session unused for this long ends (a phone left on a desk); SESSION_HOURS caps it anyway."""
    max_upload_mb: int
    max_image_pixels: int
    login_max_failures: int
    login_lockout_minutes: int
    reveal_max_per_hour: int
    """Full ID numbers one user may reveal in an hour (each reveal is logged); more are refused."""
    debug: bool
    temp_file_days: int = 7
    """Export files (exports/) and uncommitted roster previews (imports/) are deleted after this
    many days (server/lifecycle.py)."""

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "app.sqlite3"

    @property
    def objects_dir(self) -> Path:
        return self.data_dir / "objects"

    @property
    def uses_postgres(self) -> bool:
        return bool(self.database_url)

    @property
    def uses_minio(self) -> bool:
        return bool(self.minio_endpoint)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        e = dict(os.environ if env is None else env)
        data_dir = Path(e.get("DATA_DIR") or "var").resolve()
        port = e.get("PORT") or "8000"
        host = e.get("HOST") or "127.0.0.1"
        return cls(
            data_dir=data_dir,
            database_url=e.get("DATABASE_URL") or None,
            secret_key=e.get("SECRET_KEY") or _dev_secret(data_dir),
            minio_endpoint=e.get("MINIO_ENDPOINT") or None,
            minio_access_key=e.get("MINIO_ACCESS_KEY", ""),
            minio_secret_key=e.get("MINIO_SECRET_KEY", ""),
            minio_bucket=e.get("MINIO_BUCKET") or "evidence",
            minio_secure=_bool(e.get("MINIO_SECURE"), False),
            minio_region=e.get("MINIO_REGION") or None,
            base_url=(e.get("BASE_URL") or f"http://{host}:{port}").rstrip("/"),
            card_signing_key=(e.get("CARD_SIGNING_KEY") or "").strip() or _dev_card_key(data_dir),
            cookie_secure=_bool(e.get("COOKIE_SECURE"), False),
            session_hours=int(e.get("SESSION_HOURS") or 12),
            session_idle_minutes=int(e.get("SESSION_IDLE_MINUTES") or 60),
            max_upload_mb=int(e.get("MAX_UPLOAD_MB") or 15),
            max_image_pixels=int(e.get("MAX_IMAGE_PIXELS") or 50_000_000),
            login_max_failures=int(e.get("LOGIN_MAX_FAILURES") or 5),
            login_lockout_minutes=int(e.get("LOGIN_LOCKOUT_MINUTES") or 15),
            reveal_max_per_hour=int(e.get("REVEAL_MAX_PER_HOUR") or 20),
            debug=_bool(e.get("DEBUG"), False),
            temp_file_days=int(e.get("TEMP_FILE_DAYS") or 7),
        )


def _dev_secret(data_dir: Path) -> str:
    """A per-DATA_DIR secret for development; production sets SECRET_KEY."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _dev_card_key(data_dir: Path) -> str:
    """A per-DATA_DIR card signing key for development; production sets CARD_SIGNING_KEY.
    Created with O_EXCL so that several processes starting at once agree on one key."""
    path = data_dir / "card_signing_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
    for _ in range(50):  # another process may be between create and write
        key = path.read_text().strip()
        if key:
            return key
        import time

        time.sleep(0.02)
    raise RuntimeError(f"{path} is empty; delete it or set CARD_SIGNING_KEY")
