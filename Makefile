# Two commands on a fresh machine: `make run` and `make test`. Everything goes into .venv.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi

.PHONY: install run test lint bench bench-review vendor clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
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

bench: install
	$(BIN)/python -m bench

bench-review: install
	$(BIN)/python -m bench.review

# Refetch the vendored front-end files from the npm registry (no CDN at run time).
vendor:
	cd /tmp && npm pack htmx.org@2.0 bootstrap@5.3 && tar xzf htmx.org-2.0.*.tgz && \
	  cp package/dist/htmx.min.js $(CURDIR)/static/vendor/ && rm -rf package && \
	  tar xzf bootstrap-5.3.*.tgz && cp package/dist/css/bootstrap.min.css package/dist/js/bootstrap.bundle.min.js $(CURDIR)/static/vendor/ && rm -rf package

clean:
	rm -rf $(VENV) *.egg-info
