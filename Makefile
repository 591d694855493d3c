# Set-up and everyday commands. The environment lives in .venv (git-ignored).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: serve test test-fast bench install system-packages clean cluster-test

$(STAMP): pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip wheel
	$(VENV)/bin/python -m pip install --quiet -e ".[test]"
	$(VENV)/bin/python -c "from voiceagent.providers.minilm import prepared_onnx; print('MiniLM ONNX:', prepared_onnx())"
	@touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(VENV)/bin/voiceagent serve

system-packages:
	@scripts/install-system-packages.sh

# Everything: unit and pipeline tests, real-time calls over the media WebSocket, the bench end to end.
# Real-time calls mostly wait on the clock, so they run in parallel workers.
TEST_WORKERS ?= 4
test: $(STAMP) system-packages
	$(VENV)/bin/python -m pytest -q -n $(TEST_WORKERS) --dist load -m "not isolated"
	$(VENV)/bin/python -m pytest -q -m isolated

# The fast tier: every test that runs faster than real time (no phone call, no bench, no `slow` test that starts
# server processes or loads torch), on two workers (~70 s on the 2-core machine; each worker loads the models once).
test-fast: $(STAMP) system-packages
	$(VENV)/bin/python -m pytest -q -n 2 -m "not realtime and not bench and not slow"

bench: $(STAMP)
	$(VENV)/bin/voiceagent bench

# Three instances behind nginx on one PostgreSQL, Redis and Chroma server: shared state, a crash (~3 min).
cluster-test: $(STAMP) system-packages
	$(VENV)/bin/python -m tests.cluster.run_cluster

clean:
	rm -rf $(VENV) data
