# `make demo` and `make test` each set up everything on a fresh machine, then run.
# The venv is rebuilt only when pyproject.toml or this Makefile changes (stamp file).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export MUJOCO_GL ?= egl
export PYOPENGL_PLATFORM ?= egl

.PHONY: setup demo test lint perf clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	# PostgreSQL server binaries, for the results-store tests (a server the tests start and stop).
	command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql)
	# Debian's Chromium, for the leaderboard page's browser test (playwright drives it).
	test -x /usr/bin/chromium || (apt-get update && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)
	# CycloneDDS 0.10.2's C library (Debian's), for Unitree's SDK over DDS (the H1 driver).
	test -e /usr/include/dds/dds.h || (apt-get update && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y cyclonedds-dev)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# MuJoCo 4 ships as mujoco + mujoco-core + mujoco-studio; pip breaks a 3.x mujoco that it
	# upgrades in place, so a mujoco without its matching mujoco-core is uninstalled first.
	if $(PY) -m pip show -q mujoco >/dev/null 2>&1 && ! $(PY) -c 'from importlib.metadata \
		import version as v; assert v("mujoco") == v("mujoco-core")' 2>/dev/null; then \
		$(PY) -m pip uninstall -y -q mujoco mujoco-core mujoco-studio; fi
	# torch pinned in the same command as everything that depends on it (CPU build on disk).
	$(PY) -m pip install -q -e '.[dev]' torch==2.13.0
	$(PY) -m pip install -q --no-deps openpi-client
	# cyclonedds 0.10.2 is a source package: its build looks for lib/libddsc.so under
	# CYCLONEDDS_HOME, which Debian keeps in lib/<multiarch>/, so a prefix of links points at
	# it (CYCLONEDDS_HOME=/usr finds no lib/). unitree-sdk2 --no-deps: it declares
	# opencv-python, which would clobber our opencv-python-headless (the SDK imports no cv2).
	mkdir -p $(VENV)/cyclonedds && ln -sfn /usr/include $(VENV)/cyclonedds/include && \
		ln -sfn /usr/bin $(VENV)/cyclonedds/bin && \
		ln -sfn /usr/lib/$$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu) \
		$(VENV)/cyclonedds/lib
	CYCLONEDDS_HOME=$(abspath $(VENV))/cyclonedds $(PY) -m pip install -q cyclonedds==0.10.2
	$(PY) -m pip install -q --no-deps unitree-sdk2==1.0.1
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/librobot demo --out outputs/demo

test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadgroup -q

lint: $(STAMP)
	$(VENV)/bin/ruff check librobot_gym tests benchmarks examples scripts

perf: $(STAMP)
	# The gymnasium-robotics peer runs in its own venv (benchmarks/perf/.peer-venv, its MuJoCo),
	# which the script builds on first use and keeps.
	$(PY) benchmarks/perf/env_throughput.py
	$(PY) benchmarks/perf/bench_throughput.py

clean:
	rm -rf $(VENV) outputs
