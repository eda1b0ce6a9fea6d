# Thin front door: every target calls Python in the project's own virtualenv, where the logic is tested.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
LBAWS  := $(VENV)/bin/lbaws

# `make scenario fd-exhaustion` and `make up server-flask`: the words after the target are its arguments.
ifneq (,$(filter $(firstword $(MAKECMDGOALS)),scenario up))
  ARGS := $(wordlist 2,$(words $(MAKECMDGOALS)),$(MAKECMDGOALS))
  $(eval $(ARGS):;@:)
endif
NAME    ?= $(ARGS)
SERVICE ?= $(ARGS)

.DEFAULT_GOAL := help
.PHONY: help setup setup-images setup-compose images up down ps clean test test-server fuzz scenario scenarios stress check load doctor bench watch

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# The harness needs 3.11 (tomllib); say so in one line before a venv of the wrong Python exists.
# $(error), not a failing command: make would add its own "Error 2" line to the message.
PYTHON_OK      = $(shell $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && echo yes)
PYTHON_VERSION = $(shell command -v $(PYTHON) >/dev/null 2>&1 && $(PYTHON) -V 2>&1 || echo "not found")

# Two distributions: the server (server/, the wheel the images carry) and the harness (lab/, scenarios/).
# .lab is what running experiments needs; .installed adds the host's frameworks, the tests and the bench
# peers, so a first `make scenario` waits for no pytest, selenium or gunicorn.
$(VENV)/.lab: pyproject.toml server/pyproject.toml
	$(if $(PYTHON_OK),,$(error lbaws-lab needs Python 3.11 or newer; $(PYTHON) is $(PYTHON_VERSION)))
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ./server -e '.[lab]'
	touch $@

$(VENV)/.installed: $(VENV)/.lab
	$(VENV)/bin/pip install --quiet -e ./server -e '.[apps,lab,test,bench]'
	touch $@

setup: $(VENV)/.installed ## Virtualenv, host tools (Compose v2, mmdebstrap, chromium, wrk) and checks
	$(PY) -m lab.setup

# What building images needs, and no more: the harness and mmdebstrap (Compose v2 too for `make up`).
setup-images: $(VENV)/.lab
	$(PY) -m lab.setup images

setup-compose: $(VENV)/.lab
	$(PY) -m lab.setup compose

images: setup-images ## Build every image (offline base from Debian's packages when no registry answers)
	$(PY) -m lab.images build

up: setup-compose ## Start one server service: make up server-flask (LBAWS_STAGE=3d make up server-flask)
	@test -n "$(SERVICE)" || { echo "usage: make up SERVICE (server-flask, server-pyramid, server-django, server-wsgi, client)" >&2; exit 2; }
	$(PY) -m lab.images build
	@# A failed start (a port in use) or Ctrl-C leaves no container behind, nor the network once nothing else runs.
	docker compose up $(SERVICE) || { rc=$$?; docker compose rm -fsv $(SERVICE) >/dev/null 2>&1; \
	  [ -n "$$(docker compose ps -q)" ] || docker compose down --remove-orphans >/dev/null 2>&1; exit $$rc; }

down: ## Stop the lab's services and remove their containers and network
	-docker compose down --remove-orphans --timeout 5

ps: $(VENV)/.lab ## What of the lab runs: service, stage, limits, port, health
	$(PY) -m lab.status

clean: $(VENV)/.lab ## Remove every container, network, volume and image the project made
	$(PY) -m lab.clean

# One pass, side by side (xdist; tests/conftest.py groups what must not share a moment).
# TESTS narrows it to folders (`make test TESTS=tests/server`): the workflow runs one job per folder this way,
# and a folder with no test (pytest's exit 5) passes.
TESTS ?= tests
test: setup ## The whole suite: server, containers, scenarios [TESTS=tests/server]
	$(PY) -m pytest $(TESTS) --durations=15; rc=$$?; \
	if [ $$rc -eq 1 ]; then $(PY) tests/rerun_failed.py; rc=$$?; fi; \
	[ $$rc -eq 5 ] && rc=0; exit $$rc

test-server: $(VENV)/.installed ## Only the server tests (no Docker)
	$(PY) -m pytest tests/server

# The differential test of request framing (docs/http-framing.md) for as long as asked, not its bounded run.
SECONDS ?= 60
fuzz: $(VENV)/.installed ## lbaws's request framing against h11 and llhttp for SECONDS (make fuzz SECONDS=600)
	$(PY) tests/server/differential.py --seconds $(SECONDS)

scenario: setup-images ## Run one scenario: make scenario fd-exhaustion [OPTS=--keep]
	$(LBAWS) scenario $(NAME) $(OPTS)

scenarios: setup-images ## Run every scenario and print the summary table
	$(LBAWS) scenario --all $(OPTS)

# Two `yes` hogs, bounded in time, keep both cores busy; the trap ends them however the run ends.
REPEAT ?= 5
stress: setup-images ## The six floods, 3 at a time, REPEAT times each (default 5), beside two CPU hogs
	@trap 'kill $$hogs 2>/dev/null' EXIT INT TERM; hogs=""; \
	for hog in 1 2; do timeout 7200 yes >/dev/null & hogs="$$hogs $$!"; done; \
	$(LBAWS) scenario --floods --jobs 3 --repeat $(REPEAT) $(OPTS)

load: setup-images ## The fixed stages under load: 10,000 requests, 256 at a time [OPTS="--requests 1000"]
	$(LBAWS) load $(OPTS)

doctor: $(VENV)/.lab ## What kind of Docker engine this is, and which scenarios cannot run on it
	$(LBAWS) doctor

check: setup-images ## Judge your own server file: make check SERVER=webserver3g.py [STAGE=3g]
	@test -n "$(SERVER)" || { echo "usage: make check SERVER=PATH [STAGE=S]" >&2; exit 2; }
	$(LBAWS) check $(SERVER) $(if $(STAGE),--stage $(STAGE)) $(OPTS)

watch: $(VENV)/.lab ## The live page of the runs on 127.0.0.1 (lbaws serve prefork) [OPTS="--port 9000"]
	$(LBAWS) watch $(OPTS)

bench: setup ## lbaws against gunicorn, waitress, cheroot, granian, wsgiref under wrk: make bench [OPTS=--quick]
	$(LBAWS) bench $(OPTS)
