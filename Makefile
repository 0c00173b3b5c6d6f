# The two commands of the course: `make book` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-requirements

# Progress bars are for people at a screen, not for builds and tests.
export MSLIB_QUIET := 1
# In builds and tests a failing exercise check raises: every solution must pass its own check.
export MSLIB_STRICT_CHECKS := 1

# The browser test of the built book (tests/test_browser.py) needs Debian's Chromium and a local
# MathJax: the pages load MathJax from a CDN, which the offline test answers from this copy.
CHROMIUM := /usr/bin/chromium
MATHJAX_VERSION := 3.2.2
MATHJAX := $(VENV)/npm/node_modules/mathjax/es5/tex-mml-chtml.js

.PHONY: book test browser-deps student bench clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

## book: build the HTML book into _build/html (warnings are errors; a failing cell fails the build)
book: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going

## test: unit tests of mslib, every chapter under nbval, then the -W book build (fresh execution)
## and its pages in headless Chromium (screenshots in _build/browser-artifacts)
test: $(STAMP) browser-deps
	$(BIN)/python -m pytest

## browser-deps: Chromium from Debian (apt-get, as root) and MathJax from npm, where they can be installed;
## without them the browser test is skipped, with the reason in pytest's summary
browser-deps: $(MATHJAX)
	@test -x $(CHROMIUM) || { \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
	      || echo "apt-get could not install chromium: the browser test will be skipped"; \
	  else echo "no $(CHROMIUM) and no apt-get as root to install it: the browser test will be skipped"; fi; }

$(MATHJAX):
	@if command -v npm >/dev/null; then \
	  npm install --silent --no-save --no-audit --no-fund --prefix $(VENV)/npm mathjax@$(MATHJAX_VERSION) \
	    || echo "npm could not install mathjax: the browser test will skip its maths check"; \
	else echo "no npm to install mathjax: the browser test will skip its maths check"; fi

## student: student notebooks (solutions replaced by stubs, checks kept) into $(STUDENT_DIR);
## CHAPTERS="01 03" for some chapters only, FORCE=1 to overwrite (see the book's instructor guide)
STUDENT_DIR ?= _build/student
student: $(STAMP)
	$(BIN)/python -m mslib.classroom student $(CHAPTERS) --out $(STUDENT_DIR) $(if $(FORCE),--force)

## bench: mslib against PyHessian and loss-landscapes (peers from requirements-bench.txt; prints medians,
## writes book/_static/performance.json; not a test)
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	$(BIN)/python -m mslib.bench --out book/_static/performance.json

clean:
	rm -rf _build
