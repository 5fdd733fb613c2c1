#!/usr/bin/env bash
# Installs everything lmhead needs on Debian 12, from Debian packages and PyPI only.
# Idempotent and quick when everything is already there.
set -euo pipefail

DEBIAN_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libfmt-dev nlohmann-json3-dev libcli11-dev libhwy-dev libxxhash-dev
  libgtest-dev libgmock-dev libbenchmark-dev libdnnl-dev
  python3 python3-pip
  time clang-14 libclang-rt-14-dev
  # python/ (import lmhead): headers and pybind11 for the extension, and Debian's CPU build of
  # torch (PyPI's torch wheels pull GBs of CUDA) with numpy and pytest for the system python3
  # (/usr/bin/python3), which the extension is built for and which runs python/tests.
  python3-dev pybind11-dev python3-torch python3-numpy python3-pytest
  # The mesh on MPI ranks (docs/mpi.md): mpirun and the headers of Open MPI.
  openmpi-bin libopenmpi-dev
)
# Python helpers for the tests' independent references (numpy float64, HF safetensors).
# scikit_build_core and pybind11 let `pip install --no-build-isolation .` build offline.
PYTHON_PACKAGES=(numpy safetensors pytest scikit_build_core pybind11)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "[install_deps] installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PYTHON=${PYTHON:-python3}
py_missing=()
for mod in "${PYTHON_PACKAGES[@]}"; do
  "$PYTHON" -c "import $mod" 2>/dev/null || py_missing+=("$mod")
done
if ((${#py_missing[@]})); then
  echo "[install_deps] installing Python packages: ${py_missing[*]}"
  # Debian's system python refuses global pip installs (PEP 668); this machine is disposable.
  "$PYTHON" -m pip install -q "${py_missing[@]}" 2>/dev/null ||
    "$PYTHON" -m pip install -q --break-system-packages "${py_missing[@]}"
fi
