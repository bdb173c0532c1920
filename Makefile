# lakestream: the two commands a newcomer needs are `make demo` and `make test`.
# Every target installs what it needs into .venv first, so a fresh clone works as is.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# uv installs everything from the lock files; it is bootstrapped, hash-checked, into a
# virtualenv of its own (tools/uv.txt).
UV_VENV := .venv-uv
UV      := $(UV_VENV)/bin/uv
# checkov has a virtualenv and a lock of its own: its pins clash with the project's
# (tools/checkov/pyproject.toml).
CHECKOV_VENV := .venv-checkov
CHECKOV      := $(CHECKOV_VENV)/bin/checkov
LS     := $(BIN)/lakestream
# The locked production set the AWS instances install (the project's dependencies and what
# builds it from source; no laptop stack, no dev tools), exported from uv.lock with hashes.
EXPORT_PRODUCTION := $(UV) export --locked --no-default-groups --group build --no-emit-project \
	--format requirements-txt --no-header --quiet
export UV_PYTHON_DOWNLOADS := never
# What a release for AWS holds (tools/release.txt): the tracked files under these paths, from
# git's index, so nothing untracked ships. The packages are pyproject.toml's (a test checks).
RELEASE_PATHS := pyproject.toml README.md tools/production.txt \
	lakestream simulator producers consumers curation glue engines athena_api orchestration

.DEFAULT_GOAL := help
.PHONY: help install up down status demo test test-fast soak lint lock-check lock upgrade manifest format produce consume curate maintain crawl sql api bench seed-files env checkov infra-check clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

$(UV): tools/uv.txt
	$(PYTHON) -m venv $(UV_VENV)
	$(UV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes \
		--no-deps --only-binary=:all: -r tools/uv.txt
	@touch $@

# Exactly the lock's pins, hash-checked: the runtime set, every extra, the dev and build groups.
$(STAMP): pyproject.toml uv.lock $(UV) Makefile
	$(UV) sync --locked --all-extras --all-groups --compile-bytecode --python $(PYTHON)
	@touch $@

install: $(STAMP) ## create .venv and install the project, its extras and dev tools from uv.lock

$(CHECKOV): tools/checkov/pyproject.toml tools/checkov/uv.lock $(UV)
	UV_PROJECT_ENVIRONMENT=$(CURDIR)/$(CHECKOV_VENV) $(UV) sync --locked \
		--project tools/checkov --compile-bytecode --python $(PYTHON)
	@touch $@

checkov: $(CHECKOV) ## install checkov into .venv-checkov from its lock (make test does it too)

up: $(STAMP) ## start the embedded stack and provision everything
	$(LS) up

down: $(STAMP) ## stop the embedded stack
	$(LS) down

status: $(STAMP) ## show services and provisioned resources
	$(LS) status

demo: $(STAMP) ## the whole pipeline on the embedded stack, then the API (DEMO_SERVE=0 exits)
	$(LS) demo --records $(or $(DEMO_RECORDS),5000) $(if $(filter 0,$(DEMO_SERVE)),--no-serve,)

# The suite's files run on PYTEST_WORKERS processes (pytest-xdist), a file per worker at a time
# so module fixtures are built once; each worker starts its own stack on free ports. Three
# workers keep two cores busy through the waits on processes, group joins and fault windows
# (four took as long: the suite is bound by CPU). Files go out longest first
# (tests/conftest.py LONGEST_FIRST), not xdist's most-tests-first. The suite starts about 150
# Python processes: each would compile every module it imports again where the environment
# forbids bytecode caches (PYTHONDONTWRITEBYTECODE, set on some CI images), about a third of
# each start. The install compiles the locked set (--compile-bytecode, above); the suite may
# write the project's and pytest's own caches in __pycache__ (git ignores them).
PYTEST_WORKERS ?= 3
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder
NO_TESTS := if [ $$rc -eq 5 ]; then echo "pytest collected no tests: that is a failure"; exit 1; fi

test: $(STAMP) $(CHECKOV) ## run the test suite (starts its own stacks on free ports)
	$(PYTEST); rc=$$?; $(NO_TESTS); exit $$rc

test-fast: $(STAMP) $(CHECKOV) ## the tests that need no embedded stack, for the edit loop
	$(PYTEST) -m "not stack"; rc=$$?; $(NO_TESTS); exit $$rc

lint: $(STAMP) lock-check ## ruff, the layer contract (docs/architecture.md), and the locks against pyproject.toml
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

lock-check: $(UV) ## fail when a lock, tools/production.txt or tools/release.txt is stale
	$(UV) lock --check --quiet
	$(UV) lock --check --quiet --project tools/checkov
	$(EXPORT_PRODUCTION) --offline -o $(UV_VENV)/production.txt
	diff -u tools/production.txt $(UV_VENV)/production.txt \
		|| { echo "tools/production.txt is stale: run make lock" >&2; exit 1; }
	git ls-files -- $(RELEASE_PATHS) | diff -u tools/release.txt - \
		|| { echo "tools/release.txt is stale: run make manifest" >&2; exit 1; }

lock: $(UV) ## after editing pyproject.toml: re-lock what changed, keep every other pin
	$(UV) lock $(LOCK_OPTIONS)
	$(UV) lock $(LOCK_OPTIONS) --project tools/checkov
	$(EXPORT_PRODUCTION) -o tools/production.txt

manifest: ## after adding or removing a tracked file under a package: list the release's files
	git ls-files -- $(RELEASE_PATHS) > tools/release.txt

upgrade: $(UV) ## re-lock to the newest versions the ranges allow, then install and run the suite
	$(MAKE) lock LOCK_OPTIONS=--upgrade
	@git diff --stat -- uv.lock tools/ 2>/dev/null || true
	$(MAKE) test

format: $(STAMP) ## apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP) ## every benchmark vs its baseline, one run; bench-results/report.md + chart.png (BENCH_QUICK=1; ARGS="--section end-to-end")
	$(LS) bench $(ARGS)

soak: $(STAMP) ## faults for SOAK_MINUTES (10) while the pipeline runs, then records lost/duplicated; soak-results/
	$(LS) soak $(if $(SOAK_MINUTES),--minutes $(SOAK_MINUTES),)

produce: $(STAMP) ## publish simulated data to the four topics (ARGS="--count 5000 --rate 500 ...")
	$(BIN)/python -m producers $(ARGS)

seed-files: $(STAMP) ## write seed-compatible files to data/ (ROWS=1000 SEED=42)
	$(BIN)/python -m simulator --out data --rows $(or $(ROWS),1000) --seed $(or $(SEED),42)

consume: ARGS ?= --until-idle 5
consume: $(STAMP) ## land the topics in S3, exit after 5 s idle (ARGS="" runs until Ctrl-C)
	$(BIN)/python -m consumers $(ARGS)

curate: $(STAMP) ## build the curated Iceberg tables from the raw lake, once (ARGS="--follow 30")
	$(BIN)/python -m curation $(ARGS)

maintain: $(STAMP) ## compaction, snapshot expiry, orphan removal (ARGS="--retention-days 30")
	$(BIN)/python -m curation maintain $(ARGS)

crawl: $(STAMP) ## register the lake in the Glue catalog (local crawler; real crawlers on AWS)
	$(BIN)/python -m glue crawl

sql: $(STAMP) ## run Athena SQL on the lake: make sql Q="SELECT ..." or SAVED=web_errors
	$(BIN)/python -m glue sql $(if $(SAVED),--saved $(SAVED),"$(Q)")

api: $(STAMP) ## serve the query API with gunicorn on API_PORT (default 8000); Swagger UI at /swagger/
	$(BIN)/python -m athena_api serve $(if $(API_PORT),--port $(API_PORT),)

env: $(STAMP) ## after `terraform apply` in infra/: write its outputs into .env (KAFKA_USER=sink: the sink's credentials)
	$(LS) env $(if $(KAFKA_USER),--kafka-user $(KAFKA_USER),)

infra-check: $(STAMP) $(CHECKOV) ## static checks of infra/: terraform fmt, python-hcl2 wiring tests, checkov
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest tests/infra -q

clean: ## remove the virtualenvs and the run folder (stop the stack first)
	-$(LS) down
	rm -rf $(VENV) $(UV_VENV) $(CHECKOV_VENV) .lakestream
