# Two commands on a fresh machine: `make run` (the demo) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export DJANGO_SETTINGS_MODULE ?= config.settings.dev

.PHONY: run test install messages migrate demo lint clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# Browser libraries (webrtc-adapter, MediaPipe's selfie segmentation with its model) come from npm and are
# served from our own origin (settings.VENDOR_STATIC); package-lock.json pins them.
node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

# gettext's msgfmt compiles the catalogues; Debian's package brings it when it is missing.
messages: install
	@command -v msgfmt >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null)
	@$(PY) manage.py compilemessages --ignore=.venv -v 0

migrate: install
	@$(PY) manage.py migrate --noinput -v 0
	@$(PY) -c "import django, os; django.setup(); from django.conf import settings; exit(0 if 'q2' in settings.DATABASES else 1)" \
		&& $(PY) manage.py migrate --database q2 --noinput -v 0 || true

demo: migrate
	@$(PY) manage.py setup_schedules -v 0
	@$(PY) manage.py demo --print-logins

run: messages migrate demo
	@echo "Starting the web server (ASGI) and the task worker; Ctrl-C stops both."
	@trap 'kill 0' INT TERM EXIT; \
	  $(PY) manage.py qcluster & \
	  $(PY) manage.py runserver 127.0.0.1:8000 & \
	  wait

# Chromium from Debian drives the browser tests (Playwright cannot download its own here).
/usr/bin/chromium:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

# php-cli from Debian runs the WordPress plugin under a stub of WordPress (tests/integrations/).
/usr/bin/php:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends php-cli >/dev/null

# Two test processes (pytest-xdist), a file each at a time: most tests wait on a browser, a socket or the
# database part of the time. TEST_WORKERS=0 runs everything in this process.
TEST_WORKERS ?= 2
test: export DJANGO_SETTINGS_MODULE = config.settings.test
test: install messages /usr/bin/chromium /usr/bin/php
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf var/db.sqlite3 var/q2.sqlite3 var/test-*.sqlite3 var/mail var/media
