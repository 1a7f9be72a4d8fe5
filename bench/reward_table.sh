#!/usr/bin/env bash
# How the reward model's held-out accuracy depends on its pooling, its size and the amount of data:
# runs the quickstart's reward stage (configs/quickstart-reward.json) from each given starting
# checkpoint, with "last" and "mean" pooling, on 25%, 50% and 100% of the training rankings, and
# prints one table beside the bag-of-words model and the length baseline fitted on the same rankings.
#   bench/reward_table.sh --init NAME=DIR [--init NAME=DIR ...] [--out DIR] [--rlhf PATH] [--set KEY=VALUE ...]
# --set is passed to every run (e.g. --set train.max_steps=200).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=runs/reward-table
RLHF=build/app/rlhf
inits=()
sets=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --init) inits+=("$2"); shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --rlhf) RLHF=$2; shift 2 ;;
    --set) sets+=(--set "$2"); shift 2 ;;
    *) echo "reward_table.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
((${#inits[@]})) || { echo "reward_table.sh: give at least one --init NAME=DIR (an SFT or base checkpoint)" >&2; exit 2; }
[[ -x "$RLHF" ]] || { echo "reward_table.sh: $RLHF not built (scripts/setup.sh)" >&2; exit 1; }

mkdir -p "$OUT"
for init in "${inits[@]}"; do
  name=${init%%=*} dir=${init#*=}
  for pooling in last mean; do
    for percent in 100 50 25; do
      cell="$OUT/$name-$pooling-$percent"
      limit=0
      if [[ $percent != 100 ]]; then
        # data.max_train_groups caps the rankings before the validation share is taken from them
        full=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["train_rankings"] + s["valid_rankings"])' \
          "$OUT/$name-$pooling-100/summary.json")
        limit=$((full * percent / 100))
      fi
      echo "reward_table: $name, $pooling pooling, $percent% of the training rankings" >&2
      "$RLHF" reward --config configs/quickstart-reward.json --set init_from="$dir" --set pooling="$pooling" \
        --set data.max_train_groups="$limit" --set out_dir="$cell" "${sets[@]}" > /dev/null 2> "$cell.log"
    done
  done
done

python3 - "$OUT" "${inits[@]}" <<'EOF'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
names = [i.split("=", 1)[0] for i in sys.argv[2:]]
def ci(s, key):
    lo, hi = s[key + "_ci95"]
    return f'{s[key]:.3f} [{lo:.3f}, {hi:.3f}]'
print("| model | pooling | rankings fitted | reward model held-out accuracy [95% CI] | bag-of-words | longer reply | seconds |")
print("|---|---|---:|---|---|---:|---:|")
for name in names:
    for pooling in ("last", "mean"):
        for percent in (25, 50, 100):
            f = out / f"{name}-{pooling}-{percent}" / "summary.json"
            if not f.exists():
                continue
            s = json.loads(f.read_text())
            print(f'| {name} | {pooling} | {s["train_rankings"]} ({percent}%) | {ci(s, "eval_accuracy")} | '
                  f'{ci(s, "bag_of_words_accuracy")} | {s["length_baseline_accuracy"]:.3f} | {s["seconds"]:.0f} |')
print(f"held-out pairs: {s['eval_pairs']}; chance 0.500")
EOF
