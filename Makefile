# Two commands matter: `make demo` and `make test`. Everything else is for developers.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000

.PHONY: demo demo-reset test soak lint format translations bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(BIN)/lims demo --port $(PORT)

# The demo from scratch: deletes the SQLite demo database (instance/lims.sqlite3), then `make demo`.
demo-reset: $(VENV)/.installed
	$(BIN)/lims demo --reset --port $(PORT)

# The suite runs in TEST_WORKERS parallel processes (pytest-xdist; `make test TEST_WORKERS=0`
# runs it in one), each with its own copy of the migrated template databases
# (tests/databases.py); docs/development.md, "Tests".
TEST_WORKERS ?= 2

test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup

$(VENV)/.installed-soak: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,soak]'
	touch $(VENV)/.installed $(VENV)/.installed-test $@

# Load (locust) and kill/fault tests against a real `lims serve` on 127.0.0.1 (tests/soak/):
# SQLite, and PostgreSQL when LIMS_SOAK_DATABASE_URL (or LIMS_TEST_DATABASE_URL) is set — its
# schema is dropped. LIMS_SOAK_SECONDS / LIMS_SOAK_USERS size the load test; the figures go to
# docs/performance.md (section soak) unless LIMS_SOAK_REPORT=0.
LIMS_SOAK_REPORT ?= 1
soak: $(VENV)/.installed-soak
	LIMS_SOAK_REPORT=$(LIMS_SOAK_REPORT) $(BIN)/pytest -m soak tests/soak

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Extract every gettext string, merge into vi/en catalogues, compile. Translate new vi strings
# in lims/translations/vi/LC_MESSAGES/messages.po, then run this again.
translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --omit-header \
		--sort-output -o lims/translations/messages.pot lims templates
	$(BIN)/pybabel update -i lims/translations/messages.pot -d lims/translations \
		--ignore-obsolete --no-fuzzy-matching
	$(BIN)/pybabel compile -d lims/translations

# Every benchmark of benchmarks/, each rewriting its own section of docs/performance.md, on
# SQLite and — when the local server answers — PostgreSQL (database lims_bench, whose schema the
# benchmarks drop and rebuild). `make bench BENCH_ARGS="http samples"` runs some of them;
# `make bench-full` adds the 1,000,000-sample runs of the sample list.
BENCH_PG ?= postgresql+psycopg://postgres@127.0.0.1:5432/lims_bench
BENCH_ARGS ?=

bench: $(VENV)/.installed-test
	@url="$${LIMS_BENCH_DATABASE_URL:-}"; \
	if [ -z "$$url" ] && $(BIN)/python -c "import psycopg, sys; \
	psycopg.connect(sys.argv[1].replace('+psycopg', ''), connect_timeout=3).close()" \
	"$(BENCH_PG)" 2>/dev/null; then url="$(BENCH_PG)"; fi; \
	if [ -n "$$url" ]; then echo "PostgreSQL: $${url##*@}"; \
	else echo "PostgreSQL: not reachable, SQLite only"; fi; \
	LIMS_BENCH_DATABASE_URL="$$url" $(BIN)/python -m benchmarks $(BENCH_ARGS)

bench-full:
	$(MAKE) bench LIMS_BENCH_SAMPLE_SIZES=10000,100000,1000000

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
