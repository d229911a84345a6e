# The two commands a newcomer needs:  make run  ·  make test
# Everything else here is what those two call.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run test test-sqlite test-postgres install install-test vendor migrate seed system-deps bench bench-deps clean

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

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## Front-end packages from npm (pinned by package-lock.json), copied into static/vendor/.
static/vendor/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
	cp node_modules/@panzoom/panzoom/dist/panzoom.min.js static/vendor/panzoom.min.js
	cp node_modules/jsqr/dist/jsQR.js static/vendor/jsQR.js
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
