#!/bin/sh
# Container entrypoint.
#  - With arguments, runs them as given (one-off commands, e.g.
#      docker compose run --rm app python -m server users list).
#  - Without: applies pending migrations (under a lock: when several app
#    containers start at once, one migrates and the others wait, then find
#    nothing to do; server/migrations_lock.py), seeds the demo data when
#    SEED_DEMO=1 (demo accounts have known passwords: never in production),
#    then replaces itself with granian so it receives the stop signal.
set -eu

cd /app

if [ "$#" -gt 0 ]; then
    exec "$@"
fi

python -m server db migrate

if [ "${SEED_DEMO:-0}" = "1" ]; then
    python -m server demo seed
fi

# granian (a Rust HTTP server; faster than uvicorn here, bench/README.md section 1), with
# its request log on stdout as uvicorn had, and crashed workers started again.
# The app is reached only through the proxy on the internal network, so
# X-Forwarded-For / X-Forwarded-Proto are trusted from any peer (server.asgi:proxied).
exec python -m granian --interface asgi \
    --host 0.0.0.0 \
    --port 8000 \
    --workers "${WEB_CONCURRENCY:-2}" \
    --respawn-failed-workers \
    --access-log \
    server.asgi:proxied
