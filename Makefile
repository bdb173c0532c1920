# lakestream: the two commands a newcomer needs are `make demo` and `make test`.
# Every target installs what it needs into .venv first, so a fresh clone works as is.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# checkov has a virtualenv of its own: its pins clash with the project's (infra/requirements-checkov.txt).
CHECKOV_VENV := .venv-checkov
CHECKOV      := $(CHECKOV_VENV)/bin/checkov
LS     := $(BIN)/lakestream

.DEFAULT_GOAL := help
.PHONY: help install up down status demo test lint format produce consume curate maintain crawl sql api bench seed-files env checkov infra-check clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(STAMP) ## create .venv and install the project with its dev tools

$(CHECKOV): infra/requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r infra/requirements-checkov.txt
	@touch $@

checkov: $(CHECKOV) ## install checkov into .venv-checkov (make test does it too)

up: $(STAMP) ## start the embedded stack and provision everything
	$(LS) up

down: $(STAMP) ## stop the embedded stack
	$(LS) down

status: $(STAMP) ## show services and provisioned resources
	$(LS) status

demo: $(STAMP) ## the whole pipeline on the embedded stack, then the API (DEMO_SERVE=0 exits)
	$(LS) demo --records $(or $(DEMO_RECORDS),5000) $(if $(filter 0,$(DEMO_SERVE)),--no-serve,)

test: $(STAMP) $(CHECKOV) ## run the test suite (starts its own stack on free ports)
	$(BIN)/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: that is a failure"; exit 1; fi; \
	exit $$rc

lint: $(STAMP) ## ruff lint and format check, and the layer contract (docs/architecture.md)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP) ## apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP) ## every benchmark vs its baseline, one run; bench-results/report.md + chart.png (BENCH_QUICK=1)
	$(LS) bench

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
	$(BIN)/python -m athena_api serve --port $(or $(API_PORT),8000)

env: $(STAMP) ## after `terraform apply` in infra/: write its outputs into .env (KAFKA_USER=sink: the sink's credentials)
	$(LS) env $(if $(KAFKA_USER),--kafka-user $(KAFKA_USER),)

infra-check: $(STAMP) $(CHECKOV) ## static checks of infra/: terraform fmt, python-hcl2 wiring tests, checkov
	$(BIN)/python -m pytest tests/infra -q

clean: ## remove the virtualenvs and the run folder (stop the stack first)
	-$(LS) down
	rm -rf $(VENV) $(CHECKOV_VENV) .lakestream
