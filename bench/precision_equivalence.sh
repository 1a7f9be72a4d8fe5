#!/usr/bin/env bash
# Does bf16 autocast learn what fp32 learns? Runs the quickstart's pretrain -> sft -> reward -> ppo
# chain once per precision (same seeds, same data), plus the pretrain and PPO in fp32 with another
# seed as the seed-noise reference, and prints one table of the outcomes and stage times.
#   bench/precision_equivalence.sh [--out DIR] [--rlhf PATH]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=runs/precision
RLHF=build/app/rlhf
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --rlhf) RLHF=$2; shift 2 ;;
    *) echo "precision_equivalence.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -x "$RLHF" ]] || { echo "precision_equivalence.sh: $RLHF not built (scripts/setup.sh)" >&2; exit 1; }

chain() {  # chain PRECISION DIR
  local p=$1 d=$2
  "$RLHF" pretrain --config configs/quickstart-pretrain.json --set train.precision="$p" --set out_dir="$d/pretrain" \
    --set data.cache_dir="$OUT/cache"
  "$RLHF" sft --config configs/quickstart-sft.json --set train.precision="$p" --set init_from="$d/pretrain/best" \
    --set out_dir="$d/sft"
  "$RLHF" reward --config configs/quickstart-reward.json --set train.precision="$p" --set init_from="$d/sft/best" \
    --set out_dir="$d/reward"
  "$RLHF" ppo --config configs/quickstart-ppo.json --set precision="$p" --set policy_from="$d/sft/best" \
    --set reward_from="$d/reward/best" --set judge_from="$d/reward/bag_of_words.json" --set out_dir="$d/ppo"
}

mkdir -p "$OUT"
for p in fp32 bf16; do chain "$p" "$OUT/$p" 2> "$OUT/$p.log"; done
"$RLHF" pretrain --config configs/quickstart-pretrain.json --set train.precision=fp32 --set train.seed=1338 \
  --set out_dir="$OUT/fp32-seed1338/pretrain" --set data.cache_dir="$OUT/cache" 2> "$OUT/fp32-seed1338.log"
# PPO's own run-to-run noise: fp32 PPO again from the same SFT policy and reward model, another seed.
"$RLHF" ppo --config configs/quickstart-ppo.json --set precision=fp32 --set seed=1338 \
  --set policy_from="$OUT/fp32/sft/best" --set reward_from="$OUT/fp32/reward/best" \
  --set judge_from="$OUT/fp32/reward/bag_of_words.json" --set out_dir="$OUT/fp32-seed1338/ppo" 2>> "$OUT/fp32-seed1338.log"

python3 - "$OUT" <<'EOF'
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
def summary(run, stage):
    f = out / run / stage / "summary.json"
    return json.loads(f.read_text()) if f.exists() else {}
runs = ["fp32", "bf16", "fp32-seed1338"]
rows = [
    ("pretrain val_loss", lambda r: f'{summary(r, "pretrain").get("val_loss", float("nan")):.4f}'),
    ("pretrain seconds", lambda r: f'{summary(r, "pretrain").get("seconds", float("nan")):.0f}'),
    ("sft eval_loss", lambda r: f'{summary(r, "sft").get("eval_loss", float("nan")):.4f}'),
    ("sft seconds", lambda r: f'{summary(r, "sft").get("seconds", float("nan")):.0f}'),
    ("reward held-out accuracy [95% CI]", lambda r: (lambda s: f'{s["eval_accuracy"]:.3f} [{s["eval_accuracy_ci95"][0]:.3f}, {s["eval_accuracy_ci95"][1]:.3f}]' if s else "-")(summary(r, "reward"))),
    ("reward seconds", lambda r: f'{summary(r, "reward").get("seconds", float("nan")):.0f}'),
    ("ppo held-out score first -> last (s.e.)", lambda r: (lambda s: f'{s["score_first"]:.3f} -> {s["score_last"]:.3f} ({s["held_out_last"]["score_std"] / s["held_out_last"]["prompts"] ** 0.5:.3f})' if s else "-")(summary(r, "ppo"))),
    ("ppo kl_last", lambda r: f'{summary(r, "ppo").get("kl_last", float("nan")):.2f}'),
    ("ppo judge (bag-of-words) first -> last", lambda r: (lambda s: f'{s["judge_first"]:.3f} -> {s["judge_last"]:.3f}' if s else "-")(summary(r, "ppo"))),
    ("ppo seconds", lambda r: f'{summary(r, "ppo").get("seconds", float("nan")):.0f}'),
    ("precision", lambda r: str(summary(r, "pretrain").get("precision", {}).get("setting", "-"))),
]
print("| | " + " | ".join(runs) + " |")
print("|---" * (len(runs) + 1) + "|")
for name, cell in rows:
    cells = []
    for r in runs:
        try: cells.append(cell(r))
        except (KeyError, TypeError, ZeroDivisionError): cells.append("-")
    print(f"| {name} | " + " | ".join(cells) + " |")
EOF
