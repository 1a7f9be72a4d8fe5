#!/usr/bin/env bash
# Reproduces the shipped base model models/base-dialogue/ from shipped data: pretrains the GPT of
# configs/base-dialogue.json (its BPE trained on the same mix), then packs the best checkpoint with
# fp16 weights and no trainer state, next to the run's metrics.jsonl, summary.json and config.json.
# Interrupted? Rerun with --resume: training continues from runs/base-dialogue/last.
# Environment: RLHF (the binary, default build/app/rlhf), OUT (default models/base-dialogue).
set -euo pipefail
cd "$(dirname "$0")/.."
RLHF=${RLHF:-build/app/rlhf}
OUT=${OUT:-models/base-dialogue}
RUN=runs/base-dialogue

"$RLHF" pretrain --config configs/base-dialogue.json --out "$RUN" "$@"
rm -rf "$OUT"
"$RLHF" pack --in "$RUN/best" --out "$OUT" --dtype fp16
cp "$RUN/metrics.jsonl" "$RUN/summary.json" "$OUT/"
cp "$RUN/config.json" "$OUT/pretrain_config.json"
echo "base model: $OUT ($(du -sh "$OUT" | cut -f1))"
