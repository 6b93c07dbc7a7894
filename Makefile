# Two commands: `make run` serves the dashboard, `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench shipped-models clean-cache

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-deps: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test-deps: $(VENV)/.run-deps requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.run-deps
	$(BIN)/streamlit run app.py --server.port 8501 --server.headless true

test: $(VENV)/.test-deps
	$(BIN)/python -m pytest

bench: $(VENV)/.run-deps
	$(BIN)/python benchmarks/bench_shap.py
	$(BIN)/python benchmarks/bench_lime.py

# Rebuild the shipped model zoo exactly as it was made.
shipped-models: $(VENV)/.run-deps
	$(BIN)/python -m xai_core train --dataset synthetic-brain-mri --arch basic-cnn --seed 0 --out assets/models/brain-basic-cnn
	$(BIN)/python -m xai_core train --dataset synthetic-lung-ct --arch basic-cnn --seed 0 --epochs 40 --out assets/models/lung-basic-cnn
	$(BIN)/python -m xai_core train --dataset mnist --arch basic-cnn --seed 0 --out assets/models/mnist-cnn
	$(BIN)/python -m xai_core train --dataset synthetic-brain-mri --arch optimized-cnn --seed 0 --epochs 40 --out assets/models/brain-optimized-cnn
	$(BIN)/python -m xai_core train --dataset synthetic-brain-mri --arch augmented-cnn --seed 0 --epochs 60 --out assets/models/brain-augmented-cnn
	$(BIN)/python -m xai_core train --dataset synthetic-brain-mri-tagged --arch basic-cnn --seed 0 --epochs 5 --out assets/models/brain-tagged-cnn
	$(BIN)/python -m xai_core train --dataset synthetic-brain-mri-tagged --arch basic-cnn --seed 0 --epochs 5 --guided-augmentation --guide-method shap-partition --guide-model assets/models/brain-tagged-cnn --erase-area 0.04 --out assets/models/brain-tagged-cnn-guided
	$(BIN)/python -m xai_core train --dataset synthetic-brain-mri-tagged --arch basic-cnn --seed 0 --epochs 5 --random-erasing --erase-area AREA --out assets/models/brain-tagged-cnn-erasing
	$(BIN)/python -m xai_core shortcut --model brain-tagged-cnn --model brain-tagged-cnn-erasing --model brain-tagged-cnn-guided --out assets/shortcut/synthetic-brain-mri-tagged.json
