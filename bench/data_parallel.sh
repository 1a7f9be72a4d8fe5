#!/usr/bin/env bash
# Data-parallel throughput on this machine: the same pretraining job (the quickstart model shape) on
# one process and under `rlhf launch --nproc 2`, alternated over rounds in one run, with tokens/s,
# the all-reduce time per step, and the ratio. Usage: bench/data_parallel.sh [ROUNDS] [STEPS]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-2}
STEPS=${2:-40}
RLHF=${RLHF:-build/app/rlhf}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

cat >"$WORK/config.json" <<JSON
{
  "model": {"n_layer": 4, "n_head": 4, "n_embd": 192, "block_size": 128, "dropout": 0.0},
  "tokenizer": {"train_vocab_size": 2048, "train_files": ["data/corpus/austen/persuasion.txt"]},
  "data": {"files": ["data/corpus/austen/persuasion.txt"], "cache_dir": "$WORK/cache"},
  "train": {"max_steps": $STEPS, "batch_size": 16, "warmup_steps": 5, "eval_every": 100000, "log_every": 1},
  "eval_batches": 1
}
JSON

# Mean tokens/s and all-reduce seconds per step over the steps after the first five (warm-up).
summarise() {
  python3 - "$1" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
steps = [l for l in lines if "tokens_per_s" in l and l["step"] >= 5]
tps = sum(l["tokens_per_s"] for l in steps) / len(steps)
ar = sum(l.get("allreduce_s_per_step", 0.0) for l in steps) / len(steps)
print(f"{tps:.0f} {ar * 1000:.1f}")
PY
}

echo "round  processes  tokens/s  all-reduce ms/step"
for round in $(seq 1 "$ROUNDS"); do
  rm -rf "$WORK/one" "$WORK/two"
  "$RLHF" pretrain --config "$WORK/config.json" --out "$WORK/one" --threads 2 >/dev/null 2>"$WORK/one.log"
  read -r one_tps one_ar < <(summarise "$WORK/one/metrics.jsonl")
  "$RLHF" launch --nproc 2 -- rlhf pretrain --config "$WORK/config.json" --out "$WORK/two" >/dev/null 2>"$WORK/two.log"
  read -r two_tps two_ar < <(summarise "$WORK/two/metrics.jsonl")
  printf "%5d  %9d  %8s  %18s\n" "$round" 1 "$one_tps" "-"
  printf "%5d  %9d  %8s  %18s\n" "$round" 2 "$two_tps" "$two_ar"
  python3 -c "print(f'       2 vs 1 process: {$two_tps / $one_tps:.2f}x')"
done
