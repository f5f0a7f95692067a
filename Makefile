# Two commands for a newcomer: `make run` (the demo, with its worker) and `make test`.

PORT ?= 8000
export PORT

VENV := .venv
PY := $(VENV)/bin/python
CHROMIUM := /usr/bin/chromium
PYTEST_ARGS ?=

.PHONY: run test bench hey screenshots chromium clean

run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo_setup
	$(PY) manage.py serve

test: $(VENV)/.installed-test chromium
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Figures, not pass/fail: prints the tables and writes docs/benchmarks.md. SQLite unless
# DATABASE_URL=postgres://… (it makes and drops outreach_bench there). SIZES=1000,100000 by
# default; BIG=1 adds 1M rows. BENCH=senders runs the many-senders section alone (PostgreSQL, Redis).
BENCH ?=
SIZES ?= 1000,100000
BIG ?= 0
bench: $(VENV)/.installed-test hey
	BENCH_SIZES=$(SIZES) BIG=$(BIG) $(PY) -m bench.run $(BENCH)

# The load generator of the page figures (Debian's hey): a Python client would share the two
# cores with the server it measures. Without it bench/load.py falls back to Python threads.
hey:
	@if ! command -v hey >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y hey; \
		else \
			echo "*** hey is missing (sudo apt-get install hey): the page figures will use Python threads." >&2; \
		fi; \
	fi

# The README's screenshots, taken by the browser test of a user's day.
screenshots: $(VENV)/.installed-test chromium
	SCREENSHOTS=1 $(VENV)/bin/pytest tests/test_browser_flow.py

# python3.11, or python3 if it is 3.11 or newer.
$(PY):
	@python=""; \
	if command -v python3.11 >/dev/null 2>&1; then python=python3.11; \
	elif command -v python3 >/dev/null 2>&1 && python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then python=python3; \
	else echo "Python 3.11 or newer is needed (python3.11 or python3)." >&2; exit 1; fi; \
	echo "$$python -m venv $(VENV)"; \
	$$python -m venv $(VENV) || { rm -rf $(VENV); echo "Could not create $(VENV); on Debian: apt-get install python3-venv" >&2; exit 1; }

# The stamps make pip run again only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

# The browser tests drive Debian's Chromium (Playwright cannot download its own here).
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "Installing Debian's chromium for the browser tests"; \
			apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
		else \
			echo "" >&2; \
			echo "*** $(CHROMIUM) is missing, and only root can install it. The browser tests will fail." >&2; \
			echo "*** Install it with: sudo apt-get install chromium" >&2; \
			echo "*** or run the rest:  make test PYTEST_ARGS='-m \"not browser\"'" >&2; \
			echo "" >&2; \
		fi; \
	fi

clean:
	rm -rf $(VENV) db.sqlite3* staticfiles
