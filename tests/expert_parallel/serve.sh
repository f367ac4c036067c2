#!/usr/bin/env bash
# `mpirun -np N longcat serve --expert-parallel` (registered with CTest): rank 0 serves HTTP, the followers mirror
# each sequence's caches from the step broadcast. The same concurrent greedy requests (with logprobs, so the
# logits are compared too, not just the argmax) are sent to a single-process server and to 2- and 3-rank jobs;
# every reply must be byte-identical. The test also asserts that the work happened: /metrics shows batches of
# more than one sequence, each rank computed only its own experts (check_stats.py), the followers followed the
# forwards, and every mirror was freed when its sequence ended (mirrors_live 0 after the stop).
#   usage: serve.sh [path/to/longcat]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=$(realpath "${1:-$repo/build/longcat}")
for tool in mpirun node curl python3; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is missing (scripts/setup.sh installs it)"; exit 77; }
done
mpi=(mpirun --allow-run-as-root --oversubscribe --mca btl self,tcp --mca btl_tcp_if_include lo
     --mca mpi_yield_when_idle 1)
# Leak detection off for the MPI runs only, as in run.sh (OpenMPI's dlclosed plugins keep allocations to exit).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
work=$(mktemp -d)
job=
cleanup() {
  [ -n "$job" ] && kill "$job" 2>/dev/null && wait "$job" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$work/server.log" ] && tail -20 "$work/server.log" >&2; exit 1; }

model="$work/tiny"
mkdir -p "$model"
cp "$repo/tests/data/models/tiny/"*.json "$repo/tests/data/models/tiny/model.safetensors" "$model/"
node "$repo/tests/server_e2e/make_tokenizer.mjs" >"$model/tokenizer.json"

logprobs=',"logprobs":2'  # the logits are compared too (a case without: speculation decodes those plainly)
prompts=("Once upon a time" "The cat sat" "Lily had a red ball." "A dog ran to the park and" "Tom said hi"
         "It was a sunny day" "Mom baked a cake" "The bird sang")
# Sends every prompt at once (different lengths, so sequences join and leave the batch at different steps),
# twice over; writes one reply per line to $1, in prompt order.
load() {
  local out=$1 base=$2 i round
  for round in 1 2; do
    for i in "${!prompts[@]}"; do
      curl -sf "$base/v1/completions" -H 'Content-Type: application/json' \
        -d "{\"model\":\"m\",\"prompt\":\"${prompts[$i]}\",\"max_tokens\":$((8 + 3 * i)),\"temperature\":0,\"ignore_eos\":true$logprobs}" \
        >"$work/reply.$round.$i" &
    done
    wait $(jobs -p | grep -vx "${job:-none}") 2>/dev/null || true
  done
  : >"$out"
  for round in 1 2; do
    for i in "${!prompts[@]}"; do
      [ -s "$work/reply.$round.$i" ] || fail "no reply to prompt $i (round $round)"
      python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(json.dumps(r['choices'][0], sort_keys=True))" \
        "$work/reply.$round.$i" >>"$out"
    done
  done
}
# Starts a server ("$@": what runs it, e.g. mpirun -np 2; extra options of serve in $serve_extra), waits for
# /health, sets $job and $base.
serve_extra=()
start() {
  rm -f "$work/port"
  "$@" "$bin" serve --model "$model" --alias m --port 0 --port-file "$work/port" --threads 1 \
    "${serve_extra[@]}" 2>"$work/server.log" &
  job=$!
  for _ in $(seq 1 300); do [ -s "$work/port" ] && break; kill -0 $job 2>/dev/null || fail "the server exited"; sleep 0.1; done
  [ -s "$work/port" ] || fail "the server did not bind a port"
  base="http://127.0.0.1:$(cat "$work/port")"
  for _ in $(seq 1 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/health")" = 200 ] && return
    sleep 0.1
  done
  fail "the server never became healthy"
}
# SIGTERM to the process that owns the port (rank 0 under mpirun), then wait for the whole job.
stop() {
  local owner
  owner=$(ss -Hltnp "sport = :$(cat "$work/port")" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
  [ -n "$owner" ] || fail "no process listens on the server's port"
  kill -TERM "$owner"
  local rc=0
  timeout 60 tail --pid=$job -f /dev/null || fail "the job did not exit within 60 s of SIGTERM"
  wait $job || rc=$?
  job=
  [ $rc -eq 0 ] || fail "the server job exited $rc after SIGTERM"
}

# One case: the single-process replies, then 2 ranks (sequential schedule) and 3 ranks (SBO), each compared.
#   case NAME [serve options...]
case_() {
  local name=$1 np overlap batch experts
  shift
  experts=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['n_routed_experts'])" "$model/config.json")
  serve_extra=("$@")
  start
  load "$work/ref.jsonl" "$base"
  stop
  [ -z "$logprobs" ] || grep -q '"top_logprobs": \[{' "$work/ref.jsonl" || fail "the replies carry no logprobs"
  echo "ok: $name: single-process replies ($(wc -l <"$work/ref.jsonl") completions${logprobs:+ with logprobs})"
  for np in 2 3; do
    overlap=$([ $np = 2 ] && echo none || echo sbo)
    serve_extra=("$@" --expert-parallel --overlap $overlap)
    start "${mpi[@]}" -np $np
    load "$work/ep.jsonl" "$base"
    curl -sf "$base/metrics" >"$work/metrics"
    stop
    cmp -s "$work/ref.jsonl" "$work/ep.jsonl" || {
      diff <(head -c 2000 "$work/ref.jsonl") <(head -c 2000 "$work/ep.jsonl") >&2 || true
      fail "$name -np $np: replies differ from the single-process server"
    }
    batch=$(awk '$1 == "longcat_batch_size_mean" {print $2}' "$work/metrics")
    python3 -c "import sys; assert float(sys.argv[1]) > 1.5, 'mean batch ' + sys.argv[1]" "$batch" ||
      fail "$name -np $np: requests were not batched (mean batch $batch)"
    if [[ " $* " == *" --speculative mtp "* ]]; then
      verified=$(awk '$1 ~ /^longcat_spec_drafts_verified_total/ {n += $2} END {print n + 0}' "$work/metrics")
      accepted=$(awk '$1 ~ /^longcat_spec_drafts_accepted_total/ {n += $2} END {print n + 0}' "$work/metrics")
      [ "$verified" -gt 0 ] && [ "$accepted" -gt 0 ] ||
        fail "$name -np $np: $accepted of $verified drafts accepted (the rewind and the keep paths must both run)"
      batch="$batch, $accepted of $verified drafts accepted"
    fi
    python3 "$here/check_stats.py" $np "$experts" <"$work/server.log" >/dev/null || fail "$name -np $np: ep-stats"
    python3 - $np "$work/server.log" <<'PY' || fail "$name -np $np: follower mirrors"
import json, sys
np_, sequences = int(sys.argv[1]), 16
for line in open(sys.argv[2]):
    if not line.startswith("ep-stats "): continue
    s = json.loads(line.split(" ", 1)[1])
    if s["rank"] == 0: continue
    assert s["forwards_followed"] > 0, f"rank {s['rank']} followed no forwards"
    assert s["mirrors_freed"] == sequences, f"rank {s['rank']} freed {s['mirrors_freed']} of {sequences} mirrors"
    assert s["mirrors_live"] == 0, f"rank {s['rank']} still holds {s['mirrors_live']} mirrors"
PY
    echo "ok: $name under -np $np --overlap $overlap: 16 concurrent replies equal one process's (mean batch $batch)," \
         "ranks computed only their own experts, every follower mirror freed"
  done
}

case_ plain
# Speculation on the bundled demo model, whose trained MTP head gets drafts both accepted and rejected. Requests
# with logprobs decode plainly under speculation, so this case compares text (and finish reasons) only.
model="$repo/models/longcat-tinystories"
logprobs=
case_ "MTP speculation" --speculative mtp

# Kill -9 a follower mid-stream: the job ends within seconds, non-zero, mpirun names the killed rank; the stream is
# cut off (no [DONE]) instead of hanging.
model="$work/ep-experts"
"$bin" init --config "$here/ep-experts.json" --out "$model" 2>/dev/null
serve_extra=(--expert-parallel)
start "${mpi[@]}" -np 2
curl -sN "$base/v1/completions" -H 'Content-Type: application/json' \
  -d '{"model":"m","prompt":[5,6,7],"max_tokens":3000,"temperature":0,"ignore_eos":true,"stream":true}' \
  >"$work/stream" 2>/dev/null &
stream=$!
sleep 1
victim=
for p in $(pgrep -P $job || true); do
  tr '\0' '\n' </proc/$p/environ 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=1 && victim=$p
done
[ -n "$victim" ] || fail "rank 1 not found"
kill -0 $stream 2>/dev/null || fail "the stream ended before rank 1 was killed"
kill -9 "$victim"
start_s=$(date +%s.%N)
for _ in $(seq 1 150); do kill -0 $job 2>/dev/null || break; sleep 0.1; done
kill -0 $job 2>/dev/null && fail "the server job still runs 15 s after rank 1 was killed"
rc=0
wait $job || rc=$?
job=
took=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start_s" "$(date +%s.%N)")
[ $rc -ne 0 ] || fail "the server job exited 0 after rank 1 was killed"
grep -q "rank 1 .*exited on signal 9" "$work/server.log" || fail "mpirun did not name the killed rank"
timeout 15 tail --pid=$stream -f /dev/null || fail "the client's stream still hangs"
grep -q '^data: \[DONE\]' "$work/stream" && fail "the stream claims to be complete"
echo "ok: a follower killed mid-stream: job exited $rc after $took s, the stream was cut off, mpirun: $(grep -m1 'exited on signal' "$work/server.log")"
