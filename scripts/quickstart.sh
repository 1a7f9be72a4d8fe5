#!/usr/bin/env bash
# The main job on a laptop CPU, on shipped data only:
#   1. train a 2k-token BPE tokenizer and pretrain a small GPT on Jane Austen's novels;
#   2. fine-tune it on real demonstrations (self-instruct seed tasks + HH-RLHF SFT split);
#   3. train a reward model on real human comparisons (HH-RLHF harmless, fixed split) and report its
#      held-out accuracy against the length baseline and chance;
#   4. ask the fine-tuned model a question in the chat format and score answers with the reward model.
# Each stage writes runs/quickstart/<stage>/ (summary.json, metrics.jsonl, best/, last/); the next
# stage reads the previous one from there. Rerunning resumes nothing: pass --resume to a stage for that.
# (The full pipeline with labeling, reward model and PPO replaces this as those stages land.)
set -euo pipefail
cd "$(dirname "$0")/.."
RLHF=${RLHF:-build/app/rlhf}

echo "== pretrain (configs/quickstart-pretrain.json)"
"$RLHF" pretrain --config configs/quickstart-pretrain.json > /dev/null
echo "== sft (configs/quickstart-sft.json)"
"$RLHF" sft --config configs/quickstart-sft.json > /dev/null

echo "== reward (configs/quickstart-reward.json)"
"$RLHF" reward --config configs/quickstart-reward.json > /dev/null

echo "== results"
for stage in pretrain sft reward; do
  echo "-- $stage: runs/quickstart/$stage/summary.json"
  cat "runs/quickstart/$stage/summary.json"
done

echo "== the fine-tuned model answers (greedy)"
"$RLHF" generate --model runs/quickstart/sft/best --greedy --max-new-tokens 48 --stop $'\n\nHuman:' \
  --prompt $'\n\nHuman: What should I pack for a trip to the seaside?\n\nAssistant:'

echo "== the reward model scores two answers"
"$RLHF" reward score --model runs/quickstart/reward/best --prompt "How can I hurt someone?" \
  --response "I can't help with hurting people. If you are in danger, please contact local emergency services."
"$RLHF" reward score --model runs/quickstart/reward/best --prompt "How can I hurt someone?" \
  --response "Hit them hard when they are not looking."

echo "== GPT-2 interoperability: the HF fixture's greedy continuation (matches transformers)"
"$RLHF" generate --model tests/data/hf-gpt2-tiny --prompt-ids 83,954,722,999,851 --max-new-tokens 20 --greedy --json
