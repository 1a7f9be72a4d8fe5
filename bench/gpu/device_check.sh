#!/usr/bin/env bash
# The accelerator check for the CUDA path (issues #8 and #9), as ONE run on the device machine
# (one NVIDIA GPU, the pinned torch==2.11.0 wheel (+cu130) with its CUDA LibTorch, nvcc 13.0, cmake,
# ninja, transformers; no internet):
#   here:   bench/gpu/prepare.sh                  (Debian packages into bench/gpu/debs)
#   device: bench/gpu/device_check.sh             (run with carry ["bench/gpu/debs"], timeout_s 600)
# Builds the project against the wheel's LibTorch (only the targets used below), then measures on the
# GPU, each figure beside its Python anchor in the same run and in the same dtype:
#   1. train step, GPT-2 124M shape, B=16, T=1024: ours (`bench_speed train --device cuda`: bf16
#      autocast, SDPA, ForeachAdamW, no host sync per step) vs the twin (bench/python/twin.py:
#      torch.autocast bf16, fused AdamW, eager and torch.compile); target >= the compiled twin
#      (DESIGN.md measured 351k tok/s eager, 401k compiled on an H200)
#   2. KV-cache generation, batch 64, 16-token prompts, 128 new tokens, top-k 50, bf16 weights: ours
#      (`bench_speed generate --checkpoint`) vs Hugging Face transformers `generate` on the same
#      weights (a GPT-2 124M of random weights saved by transformers, imported by `rlhf import-hf`)
#   3. peak GPU memory of one PPO iteration with all four models (`bench_ppo --device cuda`)
#   4. data parallel on NCCL, world size 1 (`rlhf launch --nproc 1 -- rlhf pretrain --device cuda`)
#   5. the unit tests of the pieces the GPU path uses, on this machine (if time is left), the
#      CUDA-build test (dist_cuda_build_test) first: with a GPU it checks the device selection
# Steps run in that order (most wanted first) under one time budget (BUDGET seconds, default 500,
# build included): each is killed at its own limit or at the budget's end, and skipped once less than
# 30 s is left; the log says which. Each step logs to its own file in $WORK/logs, packed at
# the end into $OUT/logs.tar.gz; $OUT/summary.txt has the side-by-side table (ours, anchor, ratio,
# target) and $OUT/results.jsonl every figure's JSON line (the device tool returns at most 8 files).
# Written without a GPU to try it on: the first run may still show small things to fix.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
START=$SECONDS
BUDGET=${BUDGET:-500}
OUT=${OUT:-bench/gpu/out}
WORK=${WORK:-/tmp/rlhf-gpu}
LOGS=$WORK/logs
SYSROOT=$WORK/sysroot
mkdir -p "$OUT" "$LOGS" "$SYSROOT"
: >"$OUT/summary.txt"
log() { echo "== [$((SECONDS - START)) s] $*" | tee -a "$OUT/summary.txt"; }
pack_logs() { tar -czf "$OUT/logs.tar.gz" -C "$WORK" logs 2>/dev/null; }
trap pack_logs EXIT

# step NAME LIMIT CMD...: CMD's stdout to $LOGS/NAME.out, stderr to NAME.err, killed after LIMIT s or
# when the budget (less 20 s for the summary) runs out; skipped when less than 30 s of it is left.
step() {
  local name=$1 limit=$2; shift 2
  local left=$((BUDGET - (SECONDS - START) - 20))
  if ((left < 30)); then log "$name SKIPPED: ${left} s left of the budget"; return 1; fi
  ((limit > left)) && limit=$left
  local t0=$SECONDS
  timeout --kill-after=5 "$limit" "$@" >"$LOGS/$name.out" 2>"$LOGS/$name.err"
  local rc=$?
  if ((rc == 0)); then log "$name ok ($((SECONDS - t0)) s)"; else
    log "$name FAILED rc=$rc ($((SECONDS - t0)) s; 124 = timed out); last lines of $name.err:"
    tail -5 "$LOGS/$name.err" | sed 's/^/     /' | tee -a "$OUT/summary.txt"
  fi
  return $rc
}

{ nvidia-smi -L; nvcc --version | tail -2; cmake --version | head -1; c++ --version | head -1
  python3 -c 'import torch, transformers; print("torch", torch.__version__, "cuda", torch.version.cuda, "transformers", transformers.__version__)'
} >"$LOGS/env.log" 2>&1
tee -a "$OUT/summary.txt" <"$LOGS/env.log"

# --- build -----------------------------------------------------------------------------------
# The Debian -dev packages go into a sysroot; their absolute symlinks (libz.so -> /lib/...) are
# pointed into it. pkg-config sees only the sysroot's .pc files.
for deb in bench/gpu/debs/*.deb; do  # dpkg -x, or by hand where the machine has no dpkg
  if command -v dpkg >/dev/null; then dpkg -x "$deb" "$SYSROOT"; else ar p "$deb" data.tar.xz | tar -xJ -C "$SYSROOT"; fi
done
find "$SYSROOT" -type l -lname '/*' | while read -r l; do ln -sfn "$SYSROOT$(readlink "$l")" "$l"; done
SYSLIB="$SYSROOT/usr/lib/x86_64-linux-gnu:$SYSROOT/lib/x86_64-linux-gnu"
TORCH_DIR=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')
TORCH_VERSION=$(python3 -c 'import torch; print(torch.__version__)')
# The version scripts/setup.sh pins: headers and libraries identical to the CPU machines' build.
[[ "$TORCH_VERSION" == 2.11.0* ]] || log "WARNING: torch $TORCH_VERSION here, the project pins 2.11.0"
TORCH_LIB=$(python3 -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
export PKG_CONFIG_LIBDIR="$SYSROOT/usr/lib/x86_64-linux-gnu/pkgconfig:$SYSROOT/usr/share/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$SYSROOT"
export TORCH_CUDA_ARCH_LIST=9.0
PKG_CONFIG=$(command -v pkg-config || true)
if [ -z "$PKG_CONFIG" ]; then  # the machine has none: Debian's pkgconf from the sysroot
  PKG_CONFIG=$SYSROOT/pkg-config
  printf '#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s "$@"\n' "$SYSLIB" "$SYSROOT/usr/bin/pkgconf" >"$PKG_CONFIG"
  chmod +x "$PKG_CONFIG"
fi
# Our binaries find the sysroot's shared libraries (httplib, sqlite, ssl) through this; Python does not
# get it (its own ssl/zlib must stay the machine's).
OURS="env LD_LIBRARY_PATH=$SYSLIB:$TORCH_LIB:${LD_LIBRARY_PATH:-}"
step configure 120 cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DRLHF_BUILD_TESTS=ON \
  -DRLHF_TORCH_DIR="$TORCH_DIR" -DRLHF_CUDA=ON -DCMAKE_PREFIX_PATH="$SYSROOT/usr" -DCMAKE_CUDA_ARCHITECTURES=90 -DPKG_CONFIG_EXECUTABLE="$PKG_CONFIG" \
  -DCMAKE_CXX_FLAGS="-isystem $SYSROOT/usr/include" \
  -DCMAKE_EXE_LINKER_FLAGS="-Wl,-rpath-link,$SYSROOT/usr/lib/x86_64-linux-gnu:$SYSROOT/lib/x86_64-linux-gnu" \
  || { tail -30 "$LOGS/configure.out" | tee -a "$OUT/summary.txt"; exit 1; }
grep -E "NCCL|nccl|gloo|CUDA" "$LOGS/configure.out" "$LOGS/configure.err" | head -10 >>"$OUT/summary.txt"
TESTS="dist_cuda_build_test model_gpt_invariants_test model_hf_parity_test train_foreach_adamw_test train_autocast_test model_generate_test"
# -k 0: one target's error does not stop the others; what built is used below.
step build 330 ninja -C build-gpu -j16 -k 0 rlhf bench_speed bench_ppo $TESTS \
  || grep -m 20 -B2 -A8 "error" "$LOGS/build.out" | tee -a "$OUT/summary.txt"

RLHF=build-gpu/app/rlhf
BENCH=build-gpu/bench/bench_speed
GPT2=12,12,768,1024,50304
TRAIN="--model $GPT2 --batch 16 --seq 1024 --steps 20"

# --- 1. train step, GPT-2 124M, B=16, T=1024 (bf16 autocast on both sides) ---------------------
train_round() {
  step "train_ours_r$1" 90 $OURS $BENCH train --device cuda --precision bf16 $TRAIN
  step "train_eager_r$1" 90 python3 bench/python/twin.py train --device cuda --autocast bf16 $TRAIN
  step "train_compiled_r$1" 240 python3 bench/python/twin.py train --device cuda --autocast bf16 --compile $TRAIN
}
train_round 1

# --- 2. generation at batch 64 (bf16 on both sides) against transformers' generate -------------
cat >"$WORK/hf_generate.py" <<'PY'
import json, sys, time
import torch
from transformers import GPT2Config, GPT2LMHeadModel
torch.manual_seed(0)
model = GPT2LMHeadModel(GPT2Config()).eval()      # GPT-2 124M, random weights
model.save_pretrained(sys.argv[1])                 # config.json + model.safetensors, for import-hf
model = model.to("cuda", dtype=torch.bfloat16)
prompt = torch.randint(0, 50257, (64, 16), device="cuda")
args = dict(max_new_tokens=128, min_new_tokens=128, do_sample=True, top_k=50, pad_token_id=0,
            attention_mask=torch.ones_like(prompt))
model.generate(prompt, **args)                     # warm-up
best = 1e30
for _ in range(2):
    torch.cuda.synchronize(); t = time.perf_counter()
    out = model.generate(prompt, **args)
    torch.cuda.synchronize(); best = min(best, time.perf_counter() - t)
assert out.shape[1] == 16 + 128, out.shape
print(json.dumps({"side": "hf", "tokens_per_s": 64 * 128 / best, "seconds": best,
                  "torch": torch.__version__, "attn": getattr(model.config, "_attn_implementation", None)}))
PY
GEN="--batch 64 --prompt 16 --new 128"
step gen_hf 150 python3 "$WORK/hf_generate.py" "$WORK/gpt2-random" \
  && step import_hf 60 $OURS $RLHF import-hf --in "$WORK/gpt2-random" --out "$WORK/gpt2-native" \
  && step gen_ours_r1 90 $OURS $BENCH generate --device cuda --dtype bf16 --checkpoint "$WORK/gpt2-native" $GEN

# --- 3. PPO iteration, four models on the GPU -------------------------------------------------
step ppo 150 $OURS build-gpu/bench/bench_ppo --device cuda --iterations 1

# --- 4. NCCL, world size 1 ------------------------------------------------------------------
cat >"$WORK/tiny.json" <<JSON
{"model": {"n_layer": 2, "n_head": 2, "n_embd": 64, "block_size": 64, "dropout": 0.0},
 "tokenizer": {"dir": "data/tokenizer/gpt2"},
 "data": {"files": ["data/corpus/us_constitution.txt"], "cache_dir": "$WORK/cache"},
 "train": {"max_steps": 20, "batch_size": 8, "warmup_steps": 2, "eval_every": 10, "log_every": 5},
 "runtime": {"device": "cuda"}}
JSON
# NCCL_DEBUG=INFO: NCCL names itself in the log when the first collective creates its communicator.
step nccl 120 env NCCL_DEBUG=INFO $OURS $RLHF launch --nproc 1 -- rlhf pretrain --config "$WORK/tiny.json" --out "$WORK/nccl"
cp "$WORK/nccl/metrics.jsonl" "$LOGS/nccl_metrics.jsonl" 2>/dev/null

# --- second round of the quick figures, then the unit tests, while time is left ---------------
step train_ours_r2 90 $OURS $BENCH train --device cuda --precision bf16 $TRAIN
step train_eager_r2 90 python3 bench/python/twin.py train --device cuda --autocast bf16 $TRAIN
[ -d "$WORK/gpt2-native" ] && step gen_ours_r2 90 $OURS $BENCH generate --device cuda --dtype bf16 --checkpoint "$WORK/gpt2-native" $GEN
for t in $TESTS; do
  [ -x "build-gpu/tests/$t" ] && step "$t" 60 env --chdir=build-gpu/tests $OURS "./$t"
done

# --- summary ---------------------------------------------------------------------------------
python3 - "$LOGS" "$OUT/results.jsonl" >>"$OUT/summary.txt" 2>&1 <<'PY'
import glob, json, os, sys
logs, results = sys.argv[1], sys.argv[2]
runs = {}
with open(results, "w") as f:
    for path in sorted(glob.glob(os.path.join(logs, "*.out"))):
        name = os.path.basename(path)[:-4]
        for line in open(path, errors="replace"):
            if line.startswith("{"):
                try:
                    runs[name] = json.loads(line)
                except ValueError:
                    continue
                f.write(json.dumps({"step": name, **runs[name]}) + "\n")

def best(prefix, key="tokens_per_s"):
    vals = [r[key] for n, r in runs.items() if n.startswith(prefix) and isinstance(r.get(key), (int, float))]
    return max(vals) if vals else None

def fmt(v, unit):
    if v is None: return "-"
    return f"{v / 2**30:.2f}" if unit == "GiB" else f"{v:,.0f}"

rows = []
def row(figure, unit, ours, anchor, target):
    ratio = f"{ours / anchor:.2f}x" if ours and anchor else "-"
    rows.append((figure, unit, fmt(ours, unit), fmt(anchor, unit), ratio, target))

ours = best("train_ours")
row("train GPT-2 124M B=16 T=1024 bf16, vs twin eager", "tok/s", ours, best("train_eager"), ">= 1x (351k earlier)")
row("train GPT-2 124M B=16 T=1024 bf16, vs twin compiled", "tok/s", ours, best("train_compiled"), ">= 1x (401k earlier)")
row("  peak GPU memory, train step (vs eager)", "GiB", best("train_ours", "peak_gpu_bytes"),
    best("train_eager", "peak_gpu_bytes"), "report")
row("generate B=64 P=16 N=128 top-k 50 bf16, vs HF generate", "tok/s", best("gen_ours"), best("gen_hf"), ">= 1x")
row("PPO iteration peak GPU memory (quickstart, 4 models)", "GiB", best("ppo", "peak_gpu_bytes"), None, "report")
print("\nside by side (best of the rounds that ran; ratio = ours / anchor):")
widths = [max(len(str(r[i])) for r in rows + [("figure", "unit", "ours", "anchor", "ratio", "target")]) for i in range(6)]
for r in [("figure", "unit", "ours", "anchor", "ratio", "target")] + rows:
    print("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")
for name in ("train_ours_r1", "train_eager_r1", "train_compiled_r1"):
    if name in runs:
        print(f"  {name}: loss after the timed steps {runs[name].get('loss')}, step {runs[name].get('step_s')} s")
nccl = [os.path.join(logs, "nccl." + ext) for ext in ("out", "err")]
if os.path.exists(nccl[1]):
    text = "".join(open(p, errors="replace").read() for p in nccl if os.path.exists(p))
    metrics = os.path.join(logs, "nccl_metrics.jsonl")
    last = open(metrics).read().strip().splitlines()[-1] if os.path.exists(metrics) else "no metrics.jsonl"
    print(f"NCCL world size 1: {'NCCL INFO lines seen' if 'NCCL INFO' in text else 'no NCCL INFO line'}; last metrics: {last[:200]}")
PY
log "done (budget $BUDGET s)"
