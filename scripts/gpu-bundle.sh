#!/usr/bin/env bash
# Prepares, on a development machine with Node, npm and apt, what scripts/gpu-check.sh needs on a
# GPU machine that has neither Node nor network:
#
#   .gpu-bundle/bundle.tar.xz   this machine's node binary + a pruned node_modules (scripts/gpu/bundle.ts)
#   .gpu-bundle/manifest.json   what is in it, and its size
#   .gl/*.deb                   the Vulkan loader and GL vendor-neutral dispatch libraries (amd64),
#                               unpacked on the GPU machine with dpkg -x
#
# Both folders are git-ignored; name them in the device tool's `carry`:
#   carry: [".gpu-bundle", ".gl"]   command: bash scripts/gpu-check.sh
#
# Usage: bash scripts/gpu-bundle.sh [--extra DIR]   (DIR: a node_modules folder holding the
#        optional webgpu packages, where `npm ci` has not installed them in ./node_modules)
set -euo pipefail
cd "$(dirname "$0")/.."

npx tsx scripts/gpu/bundle.ts --out .gpu-bundle "$@"

# The Vulkan loader: Dawn dlopens libvulkan.so.1, which the NVIDIA driver's ICD plugs into.
# apt-get download needs no root; the lists go to /tmp so the system's apt state is untouched.
mkdir -p .gl /tmp/amd64/partial
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
# shellcheck disable=SC2086
apt-get $o update >/dev/null
# shellcheck disable=SC2086
(cd .gl && rm -f ./*.deb && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
ls -l .gl
du -ch .gpu-bundle/bundle.tar.xz .gl/*.deb | tail -1
