# Two commands on a fresh machine: `make run` and `make test`. Everything goes into .venv.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi

LOCKS := requirements/runtime.txt requirements/test.txt
# uv only compiles the lock (make lock); nothing installs it into .venv, which holds exactly the lock.
UV_VERSION := 0.13.9
LOCK_VENV := .venv-lock
UV := $(LOCK_VENV)/bin/uv
# One universal lock for Python 3.11 and later: where a package differs by version it carries a marker.
COMPILE = $(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock"

.PHONY: install run test lint lock upgrade-lock check-lock bench bench-peer bench-compare bench-review bench-load vendor clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Only hashed, pinned releases from the lock; then the project itself, whose dependencies the lock already holds.
$(VENV)/.installed: pyproject.toml $(LOCKS) | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/test.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

install: $(VENV)/.installed

run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	@echo ""
	@echo "Roster: http://127.0.0.1:$(PORT)"
	@echo "Sign in as admin@demo.example, uploader@demo.example or coach@demo.example (password roster-demo);"
	@echo "admin@other.example belongs to Other Clinic."
	@echo ""
	$(BIN)/huey_consumer app.worker.huey --workers 2 --quiet & worker=$$!; \
	trap "kill $$worker 2>/dev/null" EXIT INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

$(UV):
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet uv==$(UV_VERSION)

# Refresh the lock from pyproject.toml. Pins already in the lock are kept unless pyproject.toml asks for
# another version, so running it twice changes nothing; `make upgrade-lock` moves everything to the newest.
lock: $(UV)
	@mkdir -p requirements
	$(COMPILE) $(LOCK_ARGS) pyproject.toml -o requirements/runtime.txt
	$(COMPILE) $(LOCK_ARGS) pyproject.toml --extra test -c requirements/runtime.txt -o requirements/test.txt

upgrade-lock:
	$(MAKE) lock LOCK_ARGS=--upgrade

# Exact check (needs the package index): compiling again gives the lock byte for byte. The suite's
# tests/test_lock.py checks the pins against pyproject.toml offline.
check-lock: $(UV)
	@tmp=$$(mktemp -d) && cp $(LOCKS) $$tmp/ && \
	  $(COMPILE) pyproject.toml -o $$tmp/runtime.txt && \
	  $(COMPILE) pyproject.toml --extra test -c requirements/runtime.txt -o $$tmp/test.txt && \
	  diff -u requirements/runtime.txt $$tmp/runtime.txt && diff -u requirements/test.txt $$tmp/test.txt && \
	  rm -rf $$tmp && echo "The lock matches pyproject.toml."

bench: install
	$(BIN)/python -m bench

# django-import-export on the same files, from its own virtualenv under bench/peer/ (never .venv).
bench-peer: install
	$(BIN)/python -m bench.peer

# This checkout against an earlier commit, one CLI step in interleaved pairs:
# make bench-compare BASE=main ARGS="--rows 100000 --db postgres --step complete"
bench-compare: install
	$(BIN)/python -m bench.compare $(BASE) $(ARGS)

bench-review: install
	$(BIN)/python -m bench.review

# Show results of a 100,000-row upload, 20 users at once, on gunicorn and PostgreSQL (p95 target 200 ms).
bench-load: install
	$(BIN)/python -m bench.load

# Refetch the vendored front-end files from the npm registry (no CDN at run time).
vendor:
	cd /tmp && npm pack htmx.org@2.0 bootstrap@5.3 && tar xzf htmx.org-2.0.*.tgz && \
	  cp package/dist/htmx.min.js $(CURDIR)/static/vendor/ && rm -rf package && \
	  tar xzf bootstrap-5.3.*.tgz && cp package/dist/css/bootstrap.min.css package/dist/js/bootstrap.bundle.min.js $(CURDIR)/static/vendor/ && rm -rf package

clean:
	rm -rf $(VENV) $(LOCK_VENV) *.egg-info
