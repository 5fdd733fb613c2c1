#!/usr/bin/env bash
# Installs everything lmhead needs on Debian 12, from Debian packages and PyPI only.
# Idempotent and quick when everything is already there.
set -euo pipefail

DEBIAN_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libfmt-dev nlohmann-json3-dev libcli11-dev libhwy-dev libxxhash-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-pip
  time clang-14 libclang-rt-14-dev
)
# Python helpers for the tests' independent references (numpy float64, HF safetensors).
PYTHON_PACKAGES=(numpy safetensors pytest)

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
