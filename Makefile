# The two commands: `make demo` and `make test`. Each sets itself up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
DEMO_DIR ?= demo
export TICKLAKE_WAREHOUSE ?= $(CURDIR)/warehouse

.PHONY: demo test install test-deps bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing ticklake into $(VENV) ..."
	@$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]'
	@rm -f $(VENV)/.installed-* && touch $@

test-deps:
	@bash scripts/ensure-test-deps.sh

demo: install   ## the quick demo; make demo DEMO_ARGS=--full for the bigger archive
	$(BIN)/ticklake demo --out $(DEMO_DIR) $(DEMO_ARGS)

# two worker processes (pytest-xdist), a test file per worker at a time: module fixtures build once
TEST_WORKERS ?= 2
test: install test-deps
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(DEMO_DIR)
	git clean -fdX warehouse
