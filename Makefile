# make run  : set up everything and serve the demo (two comuni + operators' console)
# make test : set up everything and run the whole test suite
# make lint : ruff, djlint, import contracts, mypy, manifests, docs
# make serve-prod : the production stack here: nginx (TLS) -> gunicorn (prod profile) + worker
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# platformdirs (via pgserver) warns when XDG_RUNTIME_DIR is unset or shared.
export XDG_RUNTIME_DIR ?= $(CURDIR)/.data/run
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test lint setup deps sys-deps static db demo worker clean-data e2e-deps spid-test serve-prod nginx-deps bench-deps

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check ".[dev]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

deps: sys-deps $(BIN)/.installed node_modules/.installed
	@mkdir -p -m 700 $(XDG_RUNTIME_DIR)

setup: deps

# Migrations (public, template, comuni), tenant configs, demo data.
db: setup
	$(BIN)/python manage.py migrate_platform
	$(BIN)/python manage.py sync_tenants
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py spid_keys

run: db
	@$(BIN)/python manage.py demo_banner --port $(PORT)
	@trap 'kill 0' EXIT INT TERM; \
	  $(BIN)/python manage.py procrastinate worker & \
	  $(BIN)/python manage.py runserver 0.0.0.0:$(PORT)

test: setup e2e-deps nginx-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Debian libraries WeasyPrint loads at import (Pango, and HarfBuzz's subsetter:
# without it WeasyPrint warns at import, and warnings are errors in the tests).
sys-deps:
	@ldconfig -p | grep -q libharfbuzz-subset.so.0 && ldconfig -p | grep -q libpangoft2-1.0.so.0 || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libharfbuzz-subset0 libpangoft2-1.0-0; }

# Debian's Chromium for the browser tests (tests/e2e); Playwright never downloads one.
e2e-deps:
	@test -x /usr/bin/chromium || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/djlint --lint */templates platform/*/templates
	PYTHONPATH=platform $(BIN)/lint-imports
	$(BIN)/mypy .
	$(BIN)/kubernetes-validate --strict --quiet deploy/k8s/*.yaml
	$(MAKE) --no-print-directory docs

# The guides (docs/, MkDocs) into .data/site. Strict: a broken link or anchor
# between the pages fails the build (mkdocs.yml); nothing is fetched from the network.
# NO_MKDOCS_2_WARNING: Material's end-of-life banner says nothing about our pages.
.PHONY: docs
docs: $(BIN)/.installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# Debian's nginx for serve-prod and its test (tests/deploy); run as a child
# process with its files under .data/nginx/, never as the system service.
nginx-deps:
	@test -x /usr/sbin/nginx || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y nginx; }

# Debian's wrk, the HTTP load generator of bench/scale.py.
bench-deps:
	@test -x /usr/bin/wrk || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk; }

# nginx on https://*.localhost:8443 (certificate from a local CA in .data/tls/),
# gunicorn with the production profile, the worker: see deploy/serve_prod.py.
serve-prod: setup nginx-deps
	$(BIN)/python deploy/serve_prod.py

clean-data:
	rm -rf .data

# SPID/CIE conformance: AgID's spid-sp-test (own venv: it pins its own pysaml2;
# needs Debian's xmlsec1) against a test server of ours, for every comune.
SPID_VENV := .venv-spid
$(SPID_VENV)/.installed:
	test -x $(SPID_VENV)/bin/python || $(PYTHON) -m venv $(SPID_VENV)
	$(SPID_VENV)/bin/pip install --quiet --disable-pip-version-check spid-sp-test==1.2.18
	touch $@

spid-test: setup $(SPID_VENV)/.installed
	@command -v xmlsec1 >/dev/null || (apt-get update -qq && apt-get install -y -qq xmlsec1)
	timeout --kill-after=10 290 $(BIN)/python tools/spid_conformance/run.py
