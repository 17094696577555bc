# Set-up and the two everyday commands: `make run` and `make test`.
#
# TORCH_SPEC picks the PyTorch build installed before the package. The default
# pin is the CPU wheel these machines serve; on other machines choose a build
# with TORCH_SPEC and TORCH_PIP_ARGS (see the README, "Installing PyTorch").

PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
TORCH_PIP_ARGS ?=
ARGS ?=
PYTEST_ARGS ?=

BIN := $(VENV)/bin
STAMP := $(VENV)/.reluscape-installed

export MPLBACKEND = Agg

.PHONY: install run test clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(TORCH_PIP_ARGS) "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/reluscape run $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) reluscape-report .pytest_cache
