# Development commands. `make run` starts the stack, `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
VENV_PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: run test unit functional lint bench clean

$(INSTALLED): setup.py requirements.txt requirements-test.txt
	$(PYTHON) -m venv $(VENV) || { dev/install-system-packages.sh venv && $(PYTHON) -m venv $(VENV); }
	$(VENV_PYTHON) -m pip install --quiet --upgrade pip
	$(VENV_PYTHON) -m pip install --quiet -e . -r requirements-test.txt
	touch $@

run: $(INSTALLED)
	$(VENV_PYTHON) dev/stack.py run

test: $(INSTALLED)
	dev/install-system-packages.sh postgresql test
	$(VENV_PYTHON) -m pytest pulp_container/tests/unit
	$(VENV_PYTHON) -m pytest pulp_container/tests/functional

unit: $(INSTALLED)
	$(VENV_PYTHON) -m pytest pulp_container/tests/unit

functional: $(INSTALLED)
	dev/install-system-packages.sh postgresql test
	$(VENV_PYTHON) -m pytest pulp_container/tests/functional

bench: $(INSTALLED)
	dev/install-system-packages.sh postgresql test bench
	$(VENV_PYTHON) dev/bench.py

lint: $(INSTALLED)
	$(VENV)/bin/black --check --diff .
	$(VENV)/bin/ruff check .

clean:
	rm -rf .state .state-* $(VENV)
