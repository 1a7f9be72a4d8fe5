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
expect_error "cuda on a machine without it" "--device" \
  "$RLHF" generate --model "$FIXTURE" --prompt-ids 1,2 --device tpu
expect_error "truncated checkpoint" "truncated" bash -c "
  cp -r '$TMP/native' '$TMP/broken' && truncate -s -64 '$TMP/broken/model.safetensors' &&
  '$RLHF' generate --model '$TMP/broken' --prompt-ids 1,2"
expect_error "export of a non-checkpoint" "not an rlhf checkpoint" "$RLHF" export-hf --in "$FIXTURE" --out "$TMP/x"
expect_error "tokenizer directory missing" "encoder.json" \
  bash -c "echo hi | '$RLHF' tokenize --tokenizer '$TMP/nope'"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
