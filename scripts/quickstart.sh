#!/usr/bin/env bash
# The main job. For now a short demo of the foundation on shipped data: import a real HF GPT-2
# export, generate from it, score text, tokenize with GPT-2's tokenizer, train a small tokenizer.
# (The full quickstart pipeline replaces this as the stages land.)
set -euo pipefail
cd "$(dirname "$0")/.."
RLHF=${RLHF:-build/app/rlhf}
OUT=${OUT:-runs/quickstart}
mkdir -p "$OUT"

echo "== import the HF GPT-2 fixture as a native checkpoint"
"$RLHF" import-hf --in tests/data/hf-gpt2-tiny --out "$OUT/tiny-gpt2"

echo "== greedy continuation (matches HF transformers' generate on the same weights)"
"$RLHF" generate --model "$OUT/tiny-gpt2" --prompt-ids 83,954,722,999,851 --max-new-tokens 20 --greedy --json

echo "== sampled continuation"
"$RLHF" generate --model "$OUT/tiny-gpt2" --prompt-ids 83,954,722 --max-new-tokens 12 --temperature 0.8 --top-k 50 --seed 1 --json

echo "== score a sequence"
"$RLHF" score --model "$OUT/tiny-gpt2" --ids 83,954,722,999,851,327,603,174 --json

echo "== GPT-2 tokenizer"
echo "Hello, world! RLHF in C++." | "$RLHF" tokenize --tokenizer data/tokenizer/gpt2 --json

echo "== train a 2048-token BPE tokenizer on Pride and Prejudice"
"$RLHF" tokenizer train --input data/corpus/austen/prideprejudice.txt --vocab-size 2048 --out "$OUT/tokenizer-2k"
echo "It is a truth universally acknowledged" | "$RLHF" tokenize --tokenizer "$OUT/tokenizer-2k" --json

echo "== export back to HF format"
"$RLHF" export-hf --in "$OUT/tiny-gpt2" --out "$OUT/tiny-gpt2-hf"
ls -l "$OUT/tiny-gpt2-hf"
