#!/usr/bin/env bash
# The rlhf command line as scripts use it: exact interfaces, JSON output, and bad input answered with
# one line on stderr and a non-zero exit (never a stack dump or an abort).
# usage: app_cli_test.sh RLHF_BINARY PROJECT_DIR
set -uo pipefail
RLHF=$1
PROJECT=$2
FIXTURE=$PROJECT/tests/data/hf-gpt2-tiny
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0

pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

expect_output() {  # name, expected substring, command...
  local name=$1 want=$2
  shift 2
  local out
  out=$("$@" 2>"$TMP/stderr")
  if [[ $? -eq 0 && "$out" == *"$want"* ]]; then pass "$name"; else fail "$name: got '$out' $(cat "$TMP/stderr")"; fi
}

expect_error() {  # name, expected substring of the one stderr line, command...
  local name=$1 want=$2
  shift 2
  "$@" >"$TMP/stdout" 2>"$TMP/stderr"
  local rc=$? lines
  lines=$(wc -l <"$TMP/stderr")
  if [[ $rc -ne 0 && $rc -lt 128 && $lines -eq 1 && "$(cat "$TMP/stderr")" == *"$want"* ]]; then
    pass "$name"
  else
    fail "$name: rc=$rc stderr=$(head -c 400 "$TMP/stderr")"
  fi
}

# Golden greedy continuation of HF transformers on the fixture.
expect_output "generate --greedy --json matches HF" \
  '"ids":[851,851,851,851,301,301,301,301,301,301,301,301,301,301,301,301,301,301,301,301]' \
  "$RLHF" generate --model "$FIXTURE" --prompt-ids 83,954,722,999,851 --max-new-tokens 20 --greedy --json
expect_output "score --json prints loss and tokens" '"tokens":12' \
  "$RLHF" score --model "$FIXTURE" --ids 83,954,722,999,851,327,603,174,281,8,416,720 --json
expect_output "tokenize --json" '{"ids":[15496,11,995,0]}' \
  bash -c "printf 'Hello, world!' | '$RLHF' tokenize --tokenizer '$PROJECT/data/tokenizer/gpt2' --json"
expect_output "tokenize --decode" 'Hello, world!' \
  bash -c "echo '[15496,11,995,0]' | '$RLHF' tokenize --tokenizer '$PROJECT/data/tokenizer/gpt2' --decode"
expect_output "import-hf" "imported" "$RLHF" import-hf --in "$FIXTURE" --out "$TMP/native"
expect_output "generate from the native checkpoint gives the same tokens" '"ids":[851,851,851,851,301' \
  "$RLHF" generate --model "$TMP/native" --prompt-ids 83,954,722,999,851 --max-new-tokens 20 --greedy --json
expect_output "export-hf" "exported" "$RLHF" export-hf --in "$TMP/native" --out "$TMP/hf"
expect_output "generate from the exported HF directory" '"ids":[851,851,851,851,301' \
  "$RLHF" generate --model "$TMP/hf" --prompt-ids 83,954,722,999,851 --max-new-tokens 20 --greedy --json
expect_output "help lists the commands" "generate" "$RLHF" --help

expect_error "missing model directory" "no such directory" \
  "$RLHF" generate --model "$TMP/nope" --prompt-ids 1,2
expect_error "token id outside the vocabulary" "outside the vocabulary" \
  "$RLHF" generate --model "$FIXTURE" --prompt-ids 1,5000
expect_error "malformed ids" "not a token id" "$RLHF" score --model "$FIXTURE" --ids 1,x,3
expect_error "text prompt without a tokenizer" "no tokenizer" \
  "$RLHF" generate --model "$FIXTURE" --prompt "hello"
expect_error "prompt longer than the context" "exceeds block_size" \
  "$RLHF" generate --model "$FIXTURE" --prompt-ids 1,2,3 --max-new-tokens 100
expect_error "best-of without a reward model" "--best-of: needs --reward DIR" \
  "$RLHF" generate --model "$FIXTURE" --prompt "hello" --best-of 4
expect_error "best-of a reward model that is not one" "is not a reward model checkpoint" \
  "$RLHF" generate --model "$PROJECT/models/base-dialogue" --prompt "hello" --best-of 2 --reward "$PROJECT/models/base-dialogue"
expect_error "an unknown device" "--device tpu: expected cpu, cuda, cuda:N or auto" \
  "$RLHF" generate --model "$FIXTURE" --prompt-ids 1,2 --device tpu
if ! "$RLHF" --version | grep -q "GPU(s) visible" || "$RLHF" --version | grep -q " 0 GPU(s) visible"; then
  expect_error "cuda on a machine without a GPU" "--device cuda: " \
    "$RLHF" generate --model "$FIXTURE" --prompt-ids 1,2 --device cuda
fi
expect_output "--version names LibTorch and the c10d backends" "c10d backends: gloo" "$RLHF" --version
expect_error "truncated checkpoint" "truncated" bash -c "
  cp -r '$TMP/native' '$TMP/broken' && truncate -s -64 '$TMP/broken/model.safetensors' &&
  '$RLHF' generate --model '$TMP/broken' --prompt-ids 1,2"
expect_error "export of a non-checkpoint" "not an rlhf checkpoint" "$RLHF" export-hf --in "$FIXTURE" --out "$TMP/x"
expect_error "tokenizer directory missing" "encoder.json" \
  bash -c "echo hi | '$RLHF' tokenize --tokenizer '$TMP/nope'"

echo '{}' > "$TMP/empty.json"

# The training stages chained through the command line on a tiny config: pretrain -> sft -> reward
# trained from a labeling database -> reward score.
cat > "$TMP/pretrain.json" <<JSON
{"model": {"n_layer": 1, "n_head": 2, "n_embd": 32, "block_size": 64},
 "tokenizer": {"train_vocab_size": 300, "train_files": ["$PROJECT/data/corpus/us_constitution.txt"]},
 "data": {"files": ["$PROJECT/data/corpus/us_constitution.txt"], "cache_dir": "$TMP/cache"},
 "train": {"max_steps": 4, "batch_size": 4, "eval_every": 2, "warmup_steps": 1},
 "eval_batches": 1, "out_dir": "$TMP/pretrain"}
JSON
expect_output "pretrain from a config" '"unigram_val_loss"' "$RLHF" pretrain --config "$TMP/pretrain.json"
expect_output "sft with --set overrides" '"base_eval_loss"' "$RLHF" sft --config "$TMP/empty.json" \
  --set init_from="$TMP/pretrain/best" --set data.files="[\"$PROJECT/data/sft/self-instruct/seed_tasks.jsonl\"]" \
  --set train.max_steps=2 --set train.batch_size=4 --set train.warmup_steps=1 --out "$TMP/sft"
zcat "$PROJECT/data/preference/hh-rlhf/harmless-base-test.jsonl.gz" | head -60 > "$TMP/hh.jsonl"
expect_output "labeling import of HH comparisons" "imported 60" "$RLHF" labeling import --db "$TMP/labels.db" --file "$TMP/hh.jsonl"
cat > "$TMP/reward.json" <<JSON
{"init_from": "$TMP/sft/best",
 "data": {"train_files": ["$TMP/labels.db"], "eval_files": ["$PROJECT/data/preference/hh-rlhf/harmless-base-test.jsonl.gz"],
          "valid_percent": 20},
 "normalize": {"mode": "gain_bias", "reference_files": ["$PROJECT/data/sft/self-instruct/seed_tasks.jsonl"], "max_reference": 8},
 "train": {"max_steps": 2, "batch_size": 4, "eval_every": 2, "warmup_steps": 1},
 "out_dir": "$TMP/reward"}
JSON
expect_output "reward trained from a labeling database" '"eval_accuracy_ci95"' "$RLHF" reward --config "$TMP/reward.json"
expect_output "reward score --json" '{"reward":' "$RLHF" reward score --model "$TMP/reward/best" --prompt "Hi" --response "Hello" --json
expect_error "reward score of a non-reward checkpoint" "not a reward model" \
  "$RLHF" reward score --model "$TMP/sft/best" --prompt "Hi" --response "Hello"
expect_error "unknown config key names the closest valid one" 'did you mean "train.lr"' \
  "$RLHF" sft --config "$TMP/empty.json" --set train.lrr=1
expect_error "resume without a checkpoint" "no checkpoint" "$RLHF" pretrain --config "$TMP/pretrain.json" --out "$TMP/fresh" --resume

# PPO from the command line, against the reward model trained above.
cat > "$TMP/ppo.json" <<JSON
{"policy_from": "$TMP/sft/best", "reward_from": "$TMP/reward/best",
 "data": {"prompt_files": ["$PROJECT/data/sft/self-instruct/seed_tasks.jsonl"], "max_eval_prompts": 4, "max_prompt_tokens": 24},
 "sampling": {"max_new_tokens": 8}, "iterations": 2, "rollout_size": 4, "minibatch_size": 2, "ppo_epochs": 1,
 "eval_every": 1, "out_dir": "$TMP/ppo"}
JSON
expect_output "ppo with a KL penalty" '"score_last"' "$RLHF" ppo --config "$TMP/ppo.json"
expect_output "the PPO policy generates like any checkpoint" '"ids"' \
  "$RLHF" generate --model "$TMP/ppo/last" --prompt "Hello" --max-new-tokens 4 --json
expect_error "ppo with a policy as reward model" "not a reward checkpoint" \
  "$RLHF" ppo --config "$TMP/ppo.json" --set reward_from="$TMP/sft/best" --out "$TMP/ppo-bad"
expect_output "labeling sample puts K candidates per prompt into the database" '"imported":' \
  "$RLHF" labeling sample --model "$TMP/sft/best" --prompts "$PROJECT/data/sft/self-instruct/seed_tasks.jsonl" \
  --db "$TMP/samples.db" --k 2 --max-prompts 3 --max-new-tokens 6
expect_error "report without its eval.json" "no such file" "$RLHF" report --eval "$TMP/nope.json" --out "$TMP/r.html"

# The pipeline, interrupted with Ctrl+C (SIGINT) in the middle of pretraining, then resumed: the
# interrupted stage continues from its last checkpoint and both databases pass SQLite's integrity check.
cat > "$TMP/pipeline.json" <<JSON
{"run_dir": "$TMP/pipeline",
 "tokenizer": {"train_vocab_size": 300, "train_files": ["$PROJECT/data/corpus/us_constitution.txt"]},
 "pretrain": {"set": ["model.n_layer=1", "model.n_head=2", "model.n_embd=32", "model.block_size=64",
                      "data.files=[\"$PROJECT/data/corpus/us_constitution.txt\"]", "data.cache_dir=$TMP/cache",
                      "train.max_steps=600", "train.batch_size=32", "train.eval_every=20", "train.warmup_steps=1",
                      "eval_batches=1"]},
 "sft": {"set": ["data.files=[\"$PROJECT/data/sft/self-instruct/seed_tasks.jsonl\"]", "train.max_steps=2",
                 "train.batch_size=4", "train.eval_every=2", "train.warmup_steps=1"]},
 "sample": {"prompt_files": ["$PROJECT/data/sft/self-instruct/seed_tasks.jsonl"], "k": 2, "max_prompts": 4,
            "max_prompt_tokens": 24, "sampling": {"max_new_tokens": 4}},
 "label": {"source": "import", "import_files": ["$TMP/hh.jsonl"]},
 "reward": {"set": ["data.eval_files=[\"$PROJECT/data/preference/hh-rlhf/harmless-base-test.jsonl.gz\"]",
                    "data.valid_percent=20", "train.max_steps=2", "train.batch_size=4", "train.eval_every=2",
                    "train.warmup_steps=1", "normalize.mode=none"]},
 "ppo": {"set": ["data.prompt_files=[\"$PROJECT/data/sft/self-instruct/seed_tasks.jsonl\"]", "iterations=1",
                 "rollout_size=2", "minibatch_size=2", "ppo_epochs=1", "sampling.max_new_tokens=4",
                 "data.max_prompt_tokens=24", "data.max_eval_prompts=2"]},
 "eval": {"set": ["helpful_prompt_files=[\"$PROJECT/data/eval/fastchat/mt_bench_question.jsonl\"]",
                  "max_helpful_prompts=2", "sampling.max_new_tokens=4", "max_prompt_tokens=24",
                  "truthfulqa_file=$PROJECT/data/eval/truthfulqa/TruthfulQA.csv", "max_truthfulqa=2",
                  "hh_files=[\"$PROJECT/data/preference/hh-rlhf/harmless-base-test.jsonl.gz\"]", "max_hh_pairs=2",
                  "anthropic_files=[\"$PROJECT/data/eval/anthropic-evals/survival-instinct.jsonl\"]",
                  "max_anthropic_per_file=2", "heldout_text_files=[\"$PROJECT/data/corpus/us_constitution.txt\"]",
                  "max_heldout_tokens=128", "cache_dir=$TMP/cache", "ab_pairs=2"]},
 "runtime": {"device": "cpu"}}
JSON
# Job control on: a background job of a script otherwise starts with SIGINT ignored.
set -m
"$RLHF" pipeline --config "$TMP/pipeline.json" >"$TMP/pipeline.out" 2>"$TMP/pipeline.err" &
pipeline_pid=$!
set +m
for _ in $(seq 600); do  # until pretraining has written a checkpoint (at most 60 s)
  [[ -f "$TMP/pipeline/pretrain/last/config.json" ]] && break
  sleep 0.1
done
kill -INT "$pipeline_pid"
wait "$pipeline_pid"
interrupted_rc=$?
if [[ $interrupted_rc -ne 0 && -f "$TMP/pipeline/pretrain/last/config.json" ]]; then pass "Ctrl+C stops the pipeline mid-pretraining"
else fail "Ctrl+C stops the pipeline mid-pretraining: rc=$interrupted_rc $(tail -c 300 "$TMP/pipeline.err")"; fi
expect_output "the pipeline resumes and finishes" '"eval"' "$RLHF" pipeline --config "$TMP/pipeline.json" --resume
if grep -q "resuming from $TMP/pipeline/pretrain/last" "$TMP/stderr"; then pass "the interrupted stage continued from its checkpoint"
else fail "the interrupted stage continued from its checkpoint: $(grep pipeline: "$TMP/stderr" | head -5)"; fi
for db in pipeline.db labels.db; do
  expect_output "$db passes the integrity check after the interruption" "ok" sqlite3 "$TMP/pipeline/$db" "PRAGMA integrity_check"
done
expect_output "the report was written" "RLHF evaluation report" cat "$TMP/pipeline/eval/report.html"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
