# syntax=docker/dockerfile:1
#
# Production image for the field-inspection app.
#   docker build -t guard-inspect .
# Normally built and run through compose.yaml (see deploy/env.example).

############################################################################
# Stage 1: front-end packages. Nothing is loaded from a CDN: the files the
# pages need are copied out of node_modules, exactly like `make vendor`.
############################################################################
FROM node:20-slim AS vendor
WORKDIR /build
COPY package.json package-lock.json ./
COPY scripts/vendor.mjs scripts/vendor.mjs
# The same list as `make vendor`: package.json's "vendorFiles", copied by scripts/vendor.mjs.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm run vendor -- /build/vendor

############################################################################
# Stage 2: the Python runtime.
############################################################################
# Bookworm: its postgresql-client is 15, the major version of the `db` service, which
# `python -m server backup` / `restore` need (pg_dump / pg_restore of the server's version).
FROM python:3.11-slim-bookworm AS runtime

# PYTHONPATH=/app: the app finds templates/, static/ and migrations/ next to
# its own package (server/app.py, server/piccolo_app.py use the folder above
# server/), and piccolo_conf.py sits in /app. The package is not installed
# into site-packages: /app on the path is how Python finds it.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DATA_DIR=/data

# Unprivileged user; /data is the only place it may write (the app uses it
# only for the SQLite/local-file fallback, unused with PostgreSQL + MinIO),
# besides /backups (the compose `backup` service's volume, owned by it).
# A CJK font for the Chinese text on downloadable card images (the HTML pages use the phone's fonts).
# pg_dump / pg_restore for backups (postgresql-client).
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-wqy-microhei postgresql-client \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
            --shell /usr/sbin/nologin app \
 && mkdir -p /data /backups \
 && chown app:app /data /backups

WORKDIR /app

# Dependencies first, only from the lock (exact versions, SHA-256 hashes), so a
# code, template or static change does not reinstall them. The project itself is
# not pip-installed: it runs from /app (PYTHONPATH) and declares no entry points.
COPY requirements/app.lock requirements/app.lock
RUN pip install --no-cache-dir --require-hashes -r requirements/app.lock

COPY pyproject.toml piccolo_conf.py ./
COPY server/ server/
COPY migrations/ migrations/
COPY templates/ templates/
COPY static/ static/
COPY --from=vendor /build/vendor/ static/vendor/
COPY deploy/entrypoint.sh /usr/local/bin/entrypoint.sh
RUN chmod 0755 /usr/local/bin/entrypoint.sh

USER 10001:10001
EXPOSE 8000

# /healthz answers 200 when the database and object storage are reachable,
# 503 otherwise; urlopen raises on 503, so the check fails.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]
