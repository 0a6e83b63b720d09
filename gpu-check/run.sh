#!/usr/bin/env bash
# The GPU check: every backend on a real GPU beside PyTorch (README.md, "Backends").
#
# On a CPU machine, from the repository root:  cargo xtask gpu-pack
#   builds the shared suite's test binary, the `mixaug` binary and the benches with
#   `cuda` and `wgpu`, strips them and packs them with Fashion-MNIST and the Vulkan
#   loader into gpu-check/pack/ (git-ignored, under 64 MiB).
# On the GPU machine, from the repository root (the working tree plus gpu-check/pack):
#   bash gpu-check/run.sh                  # cuda, and wgpu over the GPU's Vulkan driver
#   bash gpu-check/run.sh --device flex    # the dry run on a CPU: same steps, small sizes
# Options: --budget SECONDS (default 540) bounds the whole run; the quick table, last,
# gets what is left. Needs python3 with torch (and timm for the mixing comparison).
# Everything goes under $OUT (default gpu-check/out): one log per step, the CSVs and
# summary.md with the figures. A failing step is reported and the run goes on.
set -uo pipefail

device=cuda
budget=540
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device=$2; shift 2 ;;
    --budget) budget=$2; shift 2 ;;
    *) echo "run.sh: unknown argument $1 (expected --device cuda|flex, --budget SECONDS)" >&2; exit 2 ;;
  esac
done
case "$device" in
  cuda) torch_device=cuda; batches="128,64"; quick_args=() ;;
  flex) torch_device=cpu; batches="8,2"; quick_args=(--fast) ;;
  *) echo "run.sh: --device must be cuda or flex, not $device" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
pack=$root/gpu-check/pack
out=${OUT:-$root/gpu-check/out}
mkdir -p "$out"
start=$(date +%s)
left() { echo $((budget - ($(date +%s) - start))); }
summary=$out/summary.md
say() { printf '%s\n' "$*" | tee -a "$summary"; }
: >"$summary"

if [ ! -f "$pack/bin.tar.xz" ]; then
  echo "run.sh: $pack/bin.tar.xz is missing: run \`cargo xtask gpu-pack\` on a CPU machine and bring gpu-check/pack" >&2
  exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
xz -dc "$pack/bin.tar.xz" | tar -xf - -C "$work" || { echo "run.sh: cannot unpack the binaries" >&2; exit 1; }
export CARGO_TARGET_DIR=$work/target # where criterion writes
export RUST_BACKTRACE=1

# One step: NAME SECONDS COMMAND…; its output goes to $out/NAME.log, its status and wall
# time to the summary.
step() {
  local name=$1 limit=$2
  shift 2
  local t0 rc
  t0=$(date +%s)
  [ "$limit" -lt 10 ] && { say "- $name: skipped, budget spent"; return 1; }
  timeout "$limit" "$@" >"$out/$name.log" 2>&1
  rc=$?
  local secs=$(($(date +%s) - t0))
  local tests
  tests=$(grep -E '^test result:' "$out/$name.log" | tail -1)
  say "- $name: exit $rc in ${secs} s${tests:+ ($tests)}$([ $rc -eq 124 ] && echo ', TIMED OUT')"
  return $rc
}

say "# GPU check ($device), $(date -u '+%Y-%m-%d %H:%M UTC')"
say ""
say "pack: $(head -1 "$pack/manifest.txt" 2>/dev/null)"
if command -v nvidia-smi >/dev/null; then
  say "GPU: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -1)"
fi
say "CPU: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
say "PyTorch: $(python3 -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda)' 2>&1 | tail -1)"
say ""
say "## Steps"

# 1. The shared suite, on the device and on wgpu over Vulkan.
if [ "$device" = cuda ]; then suite=cuda; else suite=flex; fi
step "suite-$suite" 150 "$work/backends" "$suite::"
# The Vulkan loader from the pack; the GPU driver's ICD from the machine (written from
# NVIDIA's GLX library when the machine has none).
export LD_LIBRARY_PATH="$pack/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [ "$device" = cuda ] && ! ls /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json >/dev/null 2>&1; then
  glx=$(ldconfig -p | awk '/libGLX_nvidia.so.0/ {print $NF; exit}')
  if [ -n "$glx" ]; then
    printf '{"file_format_version":"1.0.1","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$glx" >"$work/nvidia_icd.json"
    export VK_DRIVER_FILES=$work/nvidia_icd.json VK_ICD_FILENAMES=$work/nvidia_icd.json
    say "- vulkan: no NVIDIA ICD file on the machine; wrote one for $glx"
  else
    say "- vulkan: no NVIDIA ICD file and no libGLX_nvidia.so.0 (the container lacks the graphics capability)"
  fi
fi
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$work}
step "suite-wgpu" 150 "$work/backends" "wgpu::"

# 2. ResNet-18 CIFAR and ResNet-50 224² throughput, ours and PyTorch eager's, alternating.
for round in 1 2; do
  MIXAUG_BENCH_DEVICE=$device MIXAUG_BENCH_BATCHES=$batches MIXAUG_BENCH_CSV=$out/models-mixaug-$round.csv \
    step "models-mixaug-$round" 120 "$work/models" --bench --warm-up-time 1 --measurement-time 3
  step "models-torch-$round" 90 python3 "$root/benches/pytorch_models.py" --device "$torch_device" \
    --batches ${batches/,/ } --iterations 10 --csv "$out/models-torch-$round.csv"
done

# 3. Mixing beside the train step, and timm's Mixup on the same shapes.
MIXAUG_BENCH_DEVICE=$device MIXAUG_BENCH_CSV=$out/mix-mixaug.csv step mix-mixaug 120 "$work/mix_share"
step mix-timm 60 python3 "$root/benches/timm_mixup.py" --device "$torch_device" --csv "$out/mix-timm.csv"

# 4. The quick table, timed, with what is left.
step quick-table $(($(left) - 15)) "$work/mixaug" reproduce --device "$device" --data "$pack/fashion-mnist" \
  --out "$out/quick" --quiet "${quick_args[@]}"

# 5. The figures.
python3 "$root/gpu-check/summarise.py" "$out" 2>>"$out/summarise.log" | tee -a "$summary"
[ "${PIPESTATUS[0]}" -eq 0 ] || say "(summarise.py failed: see summarise.log)"
say ""
say "total wall time: $(($(date +%s) - start)) s"
