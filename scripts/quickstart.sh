#!/usr/bin/env bash
# The main job on a laptop CPU, on shipped data only, unattended: the whole InstructGPT recipe as one
# resumable pipeline (configs/quickstart.json), then a look at its results.
#   base                  the shipped base model models/base-dialogue (a 5.8M-parameter GPT pretrained
#                         on dialogues and prose; scripts/train_base.sh reproduces it)
#   sft                   real demonstrations (self-instruct seed tasks + HH-RLHF SFT split)
#   sample                4 candidates per prompt from the SFT model into runs/quickstart/labels.db
#   label                 real human comparisons imported from HH-RLHF (never its held-out split)
#   reward                reward model on those rankings; held-out accuracy vs length baseline and chance
#   ppo                   PPO against the reward model with a KL penalty to the SFT policy
#   eval                  base vs SFT vs PPO: helpful, honest, harmless, costs -> eval.json + report.html
# Every stage writes runs/quickstart/<stage>/; runs/quickstart/pipeline.db records what produced what.
# Interrupted? Rerun with --resume (scripts/quickstart.sh --resume): unchanged stages are skipped and
# an interrupted training stage continues from its last checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
RLHF=${RLHF:-build/app/rlhf}
mkdir -p runs

"$RLHF" pipeline --config configs/quickstart.json "$@" > runs/quickstart.pipeline.json 2> >(tee runs/quickstart.log >&2) ||
  { echo "quickstart: the pipeline failed; see runs/quickstart.log" >&2; exit 1; }

echo "== stages and wall time (runs/quickstart/pipeline.json)"
cat runs/quickstart/pipeline.json
echo "== evaluation table (runs/quickstart/eval/summary.json; open runs/quickstart/eval/report.html in a browser)"
cat runs/quickstart/eval/summary.json

echo "== the PPO policy answers (greedy)"
"$RLHF" generate --model runs/quickstart/ppo/last --greedy --max-new-tokens 48 --stop $'\n\nHuman:' \
  --prompt $'\n\nHuman: What should I pack for a trip to the seaside?\n\nAssistant:'

echo "== GPT-2 interoperability: the HF fixture's greedy continuation (matches transformers)"
"$RLHF" generate --model tests/data/hf-gpt2-tiny --prompt-ids 83,954,722,999,851 --max-new-tokens 20 --greedy --json
