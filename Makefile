# The two commands a newcomer needs:  make run  ·  make test
# Everything else here is what those two call.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run test test-sqlite test-postgres install install-test lock vendor migrate seed system-deps bench bench-deps clean

## Serve the demo on http://$(HOST):$(PORT) with SQLite and local-disk photos under var/.
run: install vendor migrate seed
	@echo ""
	@echo "  保安服务市场清理整顿 · 现场检查  →  http://$(HOST):$(PORT)"
	@echo "  Demo accounts (password demo1234): minjing / minjing2 (民警), bangongshi (办公室),"
	@echo "  lianluoyuan (联络员, 区教育局), xiangzhen (联络员, 渔阳镇), lingdao (领导)"
	@echo ""
	$(PY) -m server run --host $(HOST) --port $(PORT)

## Both backends, the same suite: SQLite + local disk, then PostgreSQL + S3 (both started
## by the tests), each including the Playwright phone tests in Chromium.
test: install-test vendor system-deps
	$(PY) -m pytest --backend sqlite
	$(PY) -m pytest --backend postgres

test-sqlite: install-test vendor
	$(PY) -m pytest --backend sqlite

test-postgres: install-test vendor system-deps
	$(PY) -m pytest --backend postgres

$(PY):
	$(PYTHON) -m venv $(VENV)

## Dependencies only from the locks (exact versions with SHA-256 hashes, made by `make lock`);
## the project itself is installed without dependencies and without fetching a build backend.
$(VENV)/.installed: pyproject.toml requirements/app.lock | $(PY)
	$(PY) -m pip install --quiet --require-hashes -r requirements/app.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml requirements/test.lock $(VENV)/.installed
	$(PY) -m pip install --quiet --require-hashes -r requirements/test.lock
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## Re-resolve the locks after changing dependencies in pyproject.toml (uv, from PyPI, into .venv);
## versions already locked are kept where they still fit, `make lock UPGRADE=1` takes the newest.
## The test lock is constrained by the app lock, so both install the same versions.
UV_COMPILE = $(VENV)/bin/uv pip compile pyproject.toml requirements/build.in --generate-hashes --universal --python-version 3.11 --quiet
lock: | $(PY)
	$(PY) -m pip install --quiet 'uv==0.13.*'
	$(UV_COMPILE) $(if $(UPGRADE),--upgrade) -o requirements/app.lock
	$(UV_COMPILE) $(if $(UPGRADE),--upgrade) --extra test -c requirements/app.lock -o requirements/test.lock

## Front-end packages from npm (pinned by package-lock.json), copied into static/vendor/ by
## scripts/vendor.mjs from the one list in package.json ("vendorFiles"; the Dockerfile uses it too).
static/vendor/.stamp: package.json package-lock.json scripts/vendor.mjs
	npm ci --no-audit --no-fund --silent
	npm run --silent vendor
	touch $@

vendor: static/vendor/.stamp

migrate: install
	$(PY) -m server db migrate

seed: install
	$(PY) -m server demo seed

## Benchmarks (issue 8): every section of bench/ (see bench/README.md); writes bench/RESULTS.md.
## One section: make bench SECTIONS="card photos".
bench: install-test vendor system-deps bench-deps bench/node_modules/.stamp
	$(PY) bench/run.py $(SECTIONS)

## Lighthouse (npm, pinned by bench/package-lock.json) into bench/node_modules/, for bench only.
bench/node_modules/.stamp: bench/package.json bench/package-lock.json
	npm ci --prefix bench --no-audit --no-fund --silent
	touch $@

## wrk (the load generator) and GNU time from Debian when the machine lacks them.
bench-deps:
	@if ! command -v wrk >/dev/null 2>&1; then \
	  echo "installing wrk (Debian package)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; fi
	@if [ ! -x /usr/bin/time ]; then \
	  echo "installing GNU time (Debian package; the scale section measures the export's peak memory)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; fi

## PostgreSQL server binaries and Chromium, from Debian, when the machine lacks them.
system-deps:
	@if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "installing PostgreSQL (Debian package)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; fi
	@if ! command -v chromium >/dev/null 2>&1; then \
	  echo "installing Chromium (Debian package)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi

clean:
	rm -rf $(VENV) node_modules bench/node_modules static/vendor var .pytest_cache
