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
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
# Keep in step with the Makefile's `vendor` target: one `cp` per file that
# templates load from /static/vendor/.
RUN mkdir -p /build/vendor \
 && cp node_modules/htmx.org/dist/htmx.min.js /build/vendor/htmx.min.js \
 && cp node_modules/jsqr/dist/jsQR.js /build/vendor/jsQR.js

############################################################################
# Stage 2: the Python runtime.
############################################################################
FROM python:3.11-slim AS runtime

# PYTHONPATH=/app: the app finds templates/, static/ and migrations/ next to
# its own package (server/app.py, server/piccolo_app.py use the folder above
# server/), and piccolo_conf.py sits in /app. Putting /app first makes Python
# import /app/server rather than the copy `pip install .` puts in
# site-packages.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DATA_DIR=/data

# Unprivileged user; /data is the only place it may write (the app uses it
# only for the SQLite/local-file fallback, unused with PostgreSQL + MinIO).
# A CJK font for the Chinese text on downloadable card images (the HTML pages use the phone's fonts).
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-wqy-microhei \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
            --shell /usr/sbin/nologin app \
 && mkdir -p /data \
 && chown app:app /data

WORKDIR /app

# Dependencies first (pyproject + the package), so template/static edits do
# not reinstall them. The in-tree build leftovers are removed.
COPY pyproject.toml ./
COPY server/ server/
RUN pip install --no-cache-dir . \
 && rm -rf build ./*.egg-info

COPY piccolo_conf.py ./
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
