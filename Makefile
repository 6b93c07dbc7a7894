# Two commands: `make run` serves the dashboard, `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# `make run GPU=1` on a machine with an NVIDIA GPU: the same TensorFlow version with its CUDA libraries
# (tensorflow[and-cuda]) instead of tensorflow-cpu. CPU stays the default.
GPU ?= 0
ifeq ($(GPU),1)
RUN_DEPS := $(VENV)/.run-deps-gpu
else
RUN_DEPS := $(VENV)/.run-deps
endif

.PHONY: run test bench shipped-models clean-cache

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-deps: requirements.txt | $(BIN)/python
	# back from GPU=1: tensorflow and tensorflow-cpu share one package folder, so swap them cleanly
	if [ -f $(VENV)/.run-deps-gpu ]; then $(BIN)/pip uninstall --quiet -y tensorflow tensorflow-cpu; \
	  rm -f $(VENV)/.run-deps-gpu; fi
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.run-deps-gpu: requirements.txt | $(BIN)/python
	$(BIN)/pip uninstall --quiet -y tensorflow-cpu tensorflow || true
	sed -E 's/^tensorflow-cpu==/tensorflow[and-cuda]==/' requirements.txt > $(VENV)/requirements-gpu.txt
	$(BIN)/pip install --quiet -r $(VENV)/requirements-gpu.txt
	rm -f $(VENV)/.run-deps
	touch $@

$(VENV)/.test-deps: $(RUN_DEPS) requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# The server warms the default model, its out-of-domain check and shap's compiled code in the background
# while it starts (pages/_ui/serve.py), so the first page does not pay for them.
run: $(RUN_DEPS)
	$(BIN)/python -m pages._ui.serve --server.port 8501 --server.headless true

# Two workers on the two cores (one test file per worker, so module fixtures are built once; each worker has
# its own cache, model, audit and data folders), then the browser tests one at a time: each starts its own
# server and Chromium, and two of those at once would only contend. The slowest tests are listed at the end of
# each phase, so a CI log shows where its minutes went. PYTEST_ARGS narrows a run.
test: $(VENV)/.test-deps
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not browser" --durations=15 $(PYTEST_ARGS)
	$(BIN)/python -m pytest -m browser --durations=10 $(PYTEST_ARGS)

bench: $(RUN_DEPS)
	$(BIN)/python benchmarks/bench_shap.py
	$(BIN)/python benchmarks/bench_lime.py
	$(BIN)/python benchmarks/bench_audit.py
	$(BIN)/python benchmarks/bench_strategies.py
	$(BIN)/python benchmarks/bench_forward.py --quick

# Rebuild the shipped model zoo exactly as it was made.
shipped-models: $(RUN_DEPS)
	$(BIN)/python -m xai_core train --dataset synthetic-brain-mri --arch basic-cnn --seed 0 --out assets/models/brain-basic-cnn
	$(BIN)/python -m xai_core train --dataset synthetic-lung-ct --arch basic-cnn --seed 0 --epochs 40 --out assets/models/lung-basic-cnn
	$(BIN)/python -m xai_core train --dataset mnist --arch basic-cnn --seed 0 --out assets/models/mnist-cnn
	$(BIN)/python -m xai_core train --dataset synthetic-brain-mri --arch optimized-cnn --seed 0 --epochs 40 --out assets/models/brain-optimized-cnn
	$(BIN)/python -m xai_core train --dataset synthetic-brain-mri --arch augmented-cnn --seed 0 --epochs 60 --out assets/models/brain-augmented-cnn
	$(BIN)/python -m xai_core train --dataset synthetic-brain-mri-tagged --arch basic-cnn --seed 0 --epochs 5 --out assets/models/brain-tagged-cnn
	$(BIN)/python -m xai_core train --dataset synthetic-brain-mri-tagged --arch basic-cnn --seed 0 --epochs 5 --guided-augmentation --guide-method shap-partition --guide-images 24 --guide-model assets/models/brain-tagged-cnn --erase-area 0.04 --out assets/models/brain-tagged-cnn-guided
	$(BIN)/python -m xai_core train --dataset synthetic-brain-mri-tagged --arch basic-cnn --seed 0 --epochs 5 --random-erasing --erase-area 0.04767 --out assets/models/brain-tagged-cnn-erasing
	$(BIN)/python -m xai_core shortcut --model brain-tagged-cnn --model brain-tagged-cnn-erasing --model brain-tagged-cnn-guided --method shap-partition --method lime --method saliency --method integrated-gradients --method grad-cam --images 8 --out assets/shortcut/synthetic-brain-mri-tagged.json
	$(BIN)/python benchmarks/bench_strategies.py --validate --ship
