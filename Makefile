# The two commands a newcomer needs: `make run` and `make test`.
# Each creates the virtualenv it needs, so a fresh clone with Python 3.11+ and make is enough.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test imap-server e2e lint screenshots translations bench clean

# The stamp files re-run the install whenever pyproject.toml changes.
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or later is required" if sys.version_info < (3, 11) else 0)'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(BIN)/.installed-dev: pyproject.toml $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: $(BIN)/.installed
	$(BIN)/supportit db upgrade
	$(BIN)/supportit demo load
	@echo ""
	@echo "SupportIT is starting on http://$(HOST):$(PORT)/  (Ctrl-C stops everything)"
	PATH="$(abspath $(BIN)):$$PATH" HOST=$(HOST) PORT=$(PORT) $(BIN)/honcho --procfile Procfile.dev start

# The run's log (every logger, DEBUG and up) is then searched for the secrets the tests used.
test: $(BIN)/.installed-dev imap-server
	mkdir -p build
	$(BIN)/python -m pytest -m "not e2e" --log-file=build/test-run.log --log-file-level=DEBUG $(PYTEST_ARGS)
	$(BIN)/python -m tests.check_logs build/test-run.log

# The IMAP intake tests talk to a real Dovecot; without it (not root, no apt) they are skipped.
imap-server:
	@command -v dovecot >/dev/null 2>&1 || test "$$(id -u)" != 0 || \
		(echo "Installing Debian's dovecot-imapd for the IMAP tests"; \
		 (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null) \
		 || echo "dovecot-imapd could not be installed: the IMAP tests will be skipped")

# Browser tests: Playwright drives Debian's Chromium (never a downloaded browser).
e2e: $(BIN)/.installed-dev
	@test -x /usr/bin/chromium || (echo "Installing Debian's chromium for the browser tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
		|| (echo "Could not install chromium: run 'sudo apt-get install -y chromium'" && exit 1))
	mkdir -p build
	$(BIN)/python -m pytest -m e2e --log-file=build/e2e-run.log --log-file-level=DEBUG $(PYTEST_ARGS)
	$(BIN)/python -m tests.check_logs build/e2e-run.log

lint: $(BIN)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# After changing user-facing text: refresh the French catalogue, translate, then run it again.
translations: $(BIN)/.installed-dev
	mkdir -p build
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 -k lazy_ngettext:1,2 -k N_ --no-location -o build/messages.pot .
	$(BIN)/pybabel update -i build/messages.pot -d supportit/translations --width 100
	$(BIN)/pybabel compile -d supportit/translations

# Every benchmark at small sizes, then one table; BENCH_TICKETS=100000 for the full queue figures.
bench: $(BIN)/.installed-dev
	$(BIN)/python -m benchmarks.all $(if $(BENCH_TICKETS),--tickets $(BENCH_TICKETS)) $(if $(BENCH_ONLY),--only $(BENCH_ONLY))

screenshots: $(BIN)/.installed-dev
	$(BIN)/python -m tests.e2e.screenshots docs/screenshots

clean:
	rm -rf $(VENV) instance .pytest_cache
