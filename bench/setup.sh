#!/bin/sh
# Installs what `npm run bench` needs for its PyTorch column, with apt, where missing (not part of CI):
#   python3-torch         Debian's PyTorch (bench/torch_bench.py runs /usr/bin/python3)
#   libopenblas0-pthread  OpenBLAS: it becomes the libblas.so.3 alternative that python3-torch links.
#                         Without it libblas.so.3 is the reference BLAS and PyTorch runs 2-6x slower,
#                         no valid reference (the bench flags it: "BLAS loaded: reference").
#   dataset-fashion-mnist the full Fashion-MNIST under /usr/share/datasets/fashion-mnist (end-to-end rows)
# Run as root (or with sudo): sh bench/setup.sh
set -eu
missing=""
for package in python3-torch libopenblas0-pthread dataset-fashion-mnist; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing="$missing $package"
  fi
done
if [ -n "$missing" ]; then
  echo "bench/setup.sh: installing$missing" >&2
  apt-get update
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
else
  echo "bench/setup.sh: python3-torch, libopenblas0-pthread and dataset-fashion-mnist are installed" >&2
fi
echo "libblas.so.3 -> $(readlink -f /etc/alternatives/libblas.so.3-x86_64-linux-gnu 2>/dev/null || echo '?')" >&2
