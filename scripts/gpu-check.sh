#!/usr/bin/env bash
# The GPU check of issue 16, for a GPU machine with a Vulkan-capable driver but no Node and no
# network (the project's H200). Prepare it first, where Node and apt work:
#
#   bash scripts/gpu-bundle.sh            → .gpu-bundle/ (node + node_modules), .gl/ (Vulkan loader .debs)
#
# then on the GPU machine, from the repository root (device tool: carry [".gpu-bundle", ".gl"]):
#
#   bash scripts/gpu-check.sh             (results in $OUT, else .gpu-check-out/)
#
# Steps, each with its own timeout, all within GPU_CHECK_BUDGET_S (default 450 s):
#   setup   unpack the .debs (dpkg -x) and the bundle; NVIDIA's Vulkan ICD if none is registered
#   probe   does the webgpu backend start, on which adapter; matMul vs cpu    (scripts/gpu/probe.ts)
#   tests   backend-comparison and webgpu tests with MODECONN_BACKEND=webgpu
#   bench   bench/bench.ts --backend webgpu: LeNet5, ResNet18 k=1/4 and k=1, CCT-2, eval and train,
#   analyses  the same script's analyses (barrier grids with BN reset, curve training, simulator)
#   torch   the same models in PyTorch on CUDA, where torch.cuda.is_available()
#   demo    scripts/demo.ts on webgpu, end to end from an empty runs/demo, into runs/demo-gpu-check
# and writes one JSON document, $OUT/gpu-check.json (scripts/gpu/collect.ts), plus $OUT/gpu-check.log.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT_DIR=${OUT:-$ROOT/.gpu-check-out}
BUDGET=${GPU_CHECK_BUDGET_S:-450}
BENCH_SECONDS=${GPU_CHECK_BENCH_SECONDS:-2}
BENCH_MODELS=${GPU_CHECK_BENCH_MODELS:-lenet5,resnet18-k0.25,resnet18-k1,cct_2_3x2_32}
TORCH_MODELS=${GPU_CHECK_TORCH_MODELS:-lenet5:128,resnet18-k0.25:64,resnet18-k1:32,cct_2_3x2_32:64}
# Dry runs on a CPU machine: GPU_CHECK_BACKEND=wasm runs bench and demo on wasm through the same
# bundle, GPU_CHECK_TIMEOUT_SCALE stretches every step's timeout.
BACKEND=${GPU_CHECK_BACKEND:-webgpu}
SCALE=${GPU_CHECK_TIMEOUT_SCALE:-1}
export NO_COLOR=1 FORCE_COLOR=0
T0=$(date +%s)
mkdir -p "$OUT_DIR"
WORK=$(mktemp -d /tmp/gpu-check.XXXXXX)
LOG=$OUT_DIR/gpu-check.log
: >"$LOG"

note() { echo "[gpu-check +$(($(date +%s) - T0))s] $*" | tee -a "$LOG"; }
left() { echo $((BUDGET - ($(date +%s) - T0))); }

# step NAME TIMEOUT COMMAND...: runs COMMAND with a timeout (capped by the budget left), output to
# $WORK/NAME.log, exit status and duration to $WORK/NAME.status.json.
step() {
  local name=$1 limit=$2
  shift 2
  local remaining
  remaining=$(left)
  if [ "$remaining" -lt 20 ]; then
    note "skip $name: the ${BUDGET}s budget is spent"
    printf '{"name":"%s","started":%d,"skipped":"budget spent"}\n' "$name" "$(($(date +%s) - T0))" >"$WORK/$name.status.json"
    return 0
  fi
  limit=$((limit * SCALE))
  [ "$limit" -gt "$remaining" ] && limit=$remaining
  note "start $name (timeout ${limit}s): $*"
  local start rc seconds timed_out=false
  start=$(date +%s)
  timeout -k 5 "$limit" "$@" >"$WORK/$name.log" 2>&1
  rc=$?
  seconds=$(($(date +%s) - start))
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then timed_out=true; fi
  printf '{"name":"%s","started":%d,"rc":%d,"seconds":%d,"timeout":%d,"timedOut":%s}\n' "$name" "$((start - T0))" "$rc" "$seconds" "$limit" "$timed_out" >"$WORK/$name.status.json"
  note "end $name: rc $rc after ${seconds}s"
  tail -n 8 "$WORK/$name.log" | sed 's/^/    /' | tee -a "$LOG"
  return 0
}

skip() {
  note "skip $1: $2"
  printf '{"name":"%s","started":%d,"skipped":"%s"}\n' "$1" "$(($(date +%s) - T0))" "$2" >"$WORK/$1.status.json"
}

# Without Node nothing else can run: still leave a JSON document that says why.
fail_without_node() {
  note "FATAL: $1"
  printf '{"format":"modeconn-gpu-check","version":1,"fatal":"%s","log":"gpu-check.log"}\n' "$1" >"$OUT_DIR/gpu-check.json"
  exit 1
}

# --- setup -------------------------------------------------------------------------------------
# Vulkan loader and GL dispatch libraries from the .debs that gpu-bundle.sh downloaded.
# GPU_CHECK_DEB_ROOT (default /) unpacks elsewhere, for a dry run that must not touch the system.
DEB_ROOT=${GPU_CHECK_DEB_ROOT:-/}
if ls .gl/*.deb >/dev/null 2>&1; then
  for f in .gl/*.deb; do dpkg -x "$f" "$DEB_ROOT" || note "dpkg -x $f failed"; done
  if [ "$DEB_ROOT" = / ]; then
    ldconfig || note "ldconfig failed"
  else
    export LD_LIBRARY_PATH="$DEB_ROOT/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
  note "unpacked $(ls .gl/*.deb | wc -l) .debs from .gl/ into $DEB_ROOT"
else
  note "no .gl/*.deb: relying on the system's libvulkan.so.1"
fi
# NVIDIA's ICD where none is registered (containers often mount the driver under /usr/local/nvidia).
if ! ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json >/dev/null 2>&1 && [ -z "${VK_DRIVER_FILES:-}" ]; then
  if [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
    note "no registered Vulkan ICD: using VK_DRIVER_FILES=$VK_DRIVER_FILES"
  else
    note "no Vulkan ICD found in /usr/share/vulkan/icd.d, /etc/vulkan/icd.d or /usr/local/nvidia"
  fi
fi
{
  echo "uname: $(uname -a)"
  ls -l /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d 2>&1
  echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-}"
  ldconfig -p 2>/dev/null | grep -E 'libvulkan|libGLX_nvidia|libEGL_nvidia' || echo 'no libvulkan / nvidia GL in ldconfig -p'
} >"$WORK/env-vulkan.txt" 2>&1
nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader >"$WORK/env-nvidia-smi.txt" 2>&1 || true
nproc >"$WORK/env-nproc.txt" 2>&1

# The bundle: unpacked once; a warm machine keeps it.
RUN=.gpu-bundle/run
if [ ! -x "$RUN/bin/node" ] || ! cmp -s .gpu-bundle/manifest.json "$RUN/.from-manifest.json"; then
  [ -f .gpu-bundle/bundle.tar.xz ] || fail_without_node "no .gpu-bundle/bundle.tar.xz: run scripts/gpu-bundle.sh and carry .gpu-bundle"
  rm -rf "$RUN" && mkdir -p "$RUN"
  if command -v xz >/dev/null 2>&1; then
    tar -xJf .gpu-bundle/bundle.tar.xz -C "$RUN" || fail_without_node "tar -xJf failed"
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' .gpu-bundle/bundle.tar.xz "$RUN" || fail_without_node "python3 tarfile extraction failed"
  else
    fail_without_node "neither xz nor python3 to unpack the bundle"
  fi
  cp .gpu-bundle/manifest.json "$RUN/.from-manifest.json"
  note "unpacked the bundle ($(du -sh "$RUN" | cut -f1))"
fi
cp .gpu-bundle/manifest.json "$WORK/bundle-manifest.json"
export PATH="$ROOT/$RUN/bin:$PATH"
if [ ! -e node_modules/tsx ]; then
  rm -rf node_modules && ln -s "$RUN/node_modules" node_modules
fi
node --version >/dev/null 2>&1 || fail_without_node "the bundled node does not run here: $(node --version 2>&1 | head -1)"
note "node $(node --version)"
TSX="node $ROOT/node_modules/tsx/dist/cli.mjs"
VITEST="node $ROOT/node_modules/vitest/vitest.mjs"

# --- steps -------------------------------------------------------------------------------------
step probe 90 $TSX scripts/gpu/probe.ts
PROBE_OK=false
grep -q '"ok":true' "$WORK/probe.log" 2>/dev/null && PROBE_OK=true

step tests 150 env MODECONN_BACKEND=webgpu MODECONN_COMPARISON_REPORT=1 \
  $VITEST run test/backend-comparison.test.ts src/backend/webgpu-backend.test.ts \
  --reporter=default --reporter=json --outputFile.json="$WORK/tests.json"

if $PROBE_OK || [ "$BACKEND" != webgpu ]; then
  rm -f "bench/results/bench-$BACKEND.json"
  # Models first, analyses apart: a failing analysis must not lose the model table (bench writes its JSON at the end).
  step bench 200 $TSX bench/bench.ts --backend "$BACKEND" --seconds "$BENCH_SECONDS" --models "$BENCH_MODELS" --no-torch --no-analyses
  cp "bench/results/bench-$BACKEND.json" "$WORK/bench.json" 2>/dev/null || note "bench wrote no bench/results/bench-$BACKEND.json"
  rm -f "bench/results/bench-$BACKEND.json"
  step analyses 120 $TSX bench/bench.ts --backend "$BACKEND" --seconds "$BENCH_SECONDS" --models none --no-torch
  cp "bench/results/bench-$BACKEND.json" "$WORK/analyses.json" 2>/dev/null || note "the analyses wrote no bench/results/bench-$BACKEND.json"
else
  skip bench "the probe found no working webgpu backend"
fi

if command -v python3 >/dev/null 2>&1 && python3 -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1; then
  step torch 120 env TORCH_DEVICE=cuda python3 bench/torch_bench.py "$BENCH_SECONDS" "$TORCH_MODELS"
  python3 -c 'import torch; print(torch.__version__, torch.version.cuda, torch.cuda.get_device_name(0))' >"$WORK/env-torch.txt" 2>&1
else
  skip torch "no python3 with a CUDA-enabled torch"
fi

if $PROBE_OK || [ "$BACKEND" != webgpu ]; then
  rm -rf runs/demo runs/demo-gpu-check
  step demo 150 env MODECONN_BACKEND="$BACKEND" $TSX scripts/demo.ts --out runs/demo-gpu-check
  cp runs/demo-gpu-check/summary.json "$WORK/demo-summary.json" 2>/dev/null || note "the demo wrote no runs/demo-gpu-check/summary.json"
else
  skip demo "the probe found no working webgpu backend"
fi

# --- report ------------------------------------------------------------------------------------
if $TSX scripts/gpu/collect.ts "$WORK" >"$OUT_DIR/gpu-check.json.tmp" 2>"$WORK/collect.err"; then
  mv "$OUT_DIR/gpu-check.json.tmp" "$OUT_DIR/gpu-check.json"
else
  note "collect.ts failed: $(head -c 500 "$WORK/collect.err")"
  { printf '{"format":"modeconn-gpu-check","version":1,"collectFailed":true,"steps":['; cat "$WORK"/*.status.json | paste -sd, -; printf ']}\n'; } >"$OUT_DIR/gpu-check.json"
fi
note "done in $(($(date +%s) - T0))s: $OUT_DIR/gpu-check.json"
