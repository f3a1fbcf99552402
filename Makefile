# The two commands of the README:
#   make run   installs, migrates, seeds demo data and starts everything on the embedded default
#   make test  installs what the tests need and runs the whole suite
# Everything else here is a step of those two.

PYTHON ?= python3.11
# One pytest worker per core (pytest-xdist); each worker has its own test database and
# its own Microsoft 365 emulator. Override, e.g. PYTEST_ARGS="tests/tenants -x".
PYTEST_ARGS ?= -n auto
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip

.PHONY: run test lint check migrate seed serve deps dev-deps chromium clean

run: deps migrate seed
	$(PY) manage.py collectstatic --noinput -v0
	@echo "Starting the portal on http://127.0.0.1:8000 (web, workers, beat, Microsoft 365 emulator)."
	@echo "Stop with Ctrl-C. Logs of every process follow."
	$(VENV)/bin/honcho -f Procfile.dev start

test: dev-deps chromium
	@DATABASE_URL="$${DATABASE_URL:-$$($(PY) scripts/detect_services.py database-url)}" \
	  $(VENV)/bin/pytest $(PYTEST_ARGS)

lint: dev-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

check: dev-deps
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) scripts/check_deploy.py

migrate: deps
	$(PY) manage.py migrate --noinput

seed: deps
	$(PY) manage.py seed_demo

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

deps: $(VENV)/.installed
$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

dev-deps: $(VENV)/.dev-installed
$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

# Browser tests drive Debian's Chromium through Playwright (a browser download cannot work
# offline). Installed when missing and this user may install packages; otherwise those
# tests skip with the reason (and fail under CI=true).
chromium:
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null || true; \
	fi

clean:
	rm -rf var staticfiles .pytest_cache
