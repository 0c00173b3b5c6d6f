# The two commands of the course: `make book` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-requirements

# Progress bars are for people at a screen, not for builds and tests.
export MSLIB_QUIET := 1

.PHONY: book test bench clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

## book: build the HTML book into _build/html (warnings are errors; a failing cell fails the build)
book: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going

## test: unit tests of mslib, every chapter under nbval, then the -W book build (fresh execution)
test: $(STAMP)
	$(BIN)/python -m pytest

## bench: time mslib's hot paths (prints medians; not a test)
bench: $(STAMP)
	$(BIN)/python -m mslib.bench

clean:
	rm -rf _build
