#!/usr/bin/env bash
# End-to-end tests of `longcat serve` (registered with CTest): starts the real server on a free loopback port
# with the tiny fixture model plus a byte-level tokenizer (make_tokenizer.mjs), runs the OpenAI SDK tests
# (*.test.mjs, node:test), checks the raw protocol with curl, and ends with a SIGTERM during a stream (the
# stream must finish and the server exit 0).
#   usage: run.sh [path/to/longcat]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=$(realpath "${1:-$repo/build/longcat}")
key=e2e-test-key

for tool in node npm curl ss; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is missing (scripts/setup.sh installs it)"; exit 77; }
done
if [ ! -d "$here/node_modules/openai" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

# Under ASan (the sanitizer stage of scripts/test.sh) a small quarantine of freed blocks: concurrency.test.mjs
# checks that resident memory comes back after a load, which the default 256 MiB quarantine would hide.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
# ASan's allocator still keeps per-thread caches and quarantines of its own (32 HTTP threads at once), so the
# memory test allows more growth there (LeakSanitizer checks real leaks at exit in that build). CTest sets
# LONGCAT_E2E_ASAN=1 for the sanitizer build (CMakeLists.txt); when run by hand, pass it yourself.

work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; echo "--- server log" >&2; cat "$work/server.log" >&2 || true; exit 1; }

model="$work/tiny"
mkdir -p "$model"
cp "$repo/tests/data/models/tiny/"*.json "$repo/tests/data/models/tiny/model.safetensors" "$model/"
node "$here/make_tokenizer.mjs" > "$model/tokenizer.json"

"$bin" serve --model "$model" --port 0 --port-file "$work/port" --api-key "$key" --threads 2 \
  --max-body-bytes 65536 --shutdown-grace 20 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 300); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || fail "the server did not bind a port"
base="http://127.0.0.1:$(cat "$work/port")"
for _ in $(seq 1 300); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/health")" = 200 ] && break
  sleep 0.1
done
echo "server at $base"
# The listen queue holds a burst of connections (httplib alone would leave it at 5; ss shows it as Send-Q).
backlog=$(ss -Hltn "sport = :$(cat "$work/port")" | awk '{print $3}' | head -1)
[ "${backlog:-0}" -ge 128 ] || fail "listen backlog is ${backlog:-unknown}, expected at least 128"
echo "listen backlog $backlog"

# ---- the OpenAI SDK tests
# One file at a time (node:test would run files in parallel, and some tests read the server-wide metrics).
for t in "$here"/*.test.mjs; do
  LONGCAT_URL=$base LONGCAT_KEY=$key LONGCAT_BIN=$bin LONGCAT_MODEL=$model node --test "$t" \
    || fail "SDK tests in $(basename "$t")"
done

# ---- the raw protocol with curl
auth=(-H "Authorization: Bearer $key")
json=(-H "Content-Type: application/json")
expect_status() {  # expect_status CODE DESCRIPTION curl-args...
  local want=$1 what=$2
  shift 2
  local got
  got=$(curl -s -o "$work/body" -w '%{http_code}' "$@")
  [ "$got" = "$want" ] || fail "$what: status $got, expected $want: $(cat "$work/body")"
}
expect_status 200 "health" "$base/health"
expect_status 401 "models without a key" "$base/v1/models"
grep -q '"code":"invalid_api_key"' "$work/body" || fail "401 body: $(cat "$work/body")"
expect_status 204 "CORS preflight" -X OPTIONS -H "Origin: http://example.com" \
  -H "Access-Control-Request-Method: POST" "$base/v1/chat/completions"
curl -s -D - -o /dev/null "${auth[@]}" "$base/v1/models" | grep -qi '^access-control-allow-origin: \*' \
  || fail "no CORS header"
expect_status 400 "malformed JSON" "${auth[@]}" "${json[@]}" -d '{"messages": [' "$base/v1/chat/completions"
grep -q '"type":"invalid_request_error"' "$work/body" || fail "400 body: $(cat "$work/body")"
expect_status 400 "wrong type" "${auth[@]}" "${json[@]}" -d '{"prompt": "x", "max_tokens": "ten"}' "$base/v1/completions"
grep -q '"param":"max_tokens"' "$work/body" || fail "400 body: $(cat "$work/body")"
head -c 100000 /dev/zero | tr '\0' 'a' | sed 's/^/{"prompt": "/; s/$/"}/' > "$work/big.json"
expect_status 413 "oversized body" "${auth[@]}" "${json[@]}" --data-binary @"$work/big.json" "$base/v1/completions"
grep -q '"code":"request_too_large"' "$work/body" || fail "413 body: $(cat "$work/body")"
expect_status 404 "unknown route" "${auth[@]}" "$base/v2/nothing"
grep -q '"error"' "$work/body" || fail "404 body: $(cat "$work/body")"

expect_status 200 "tokenize" "${auth[@]}" "${json[@]}" -d '{"content": "Hi!"}' "$base/tokenize"
[ "$(cat "$work/body")" = '{"tokens":[76,109,37]}' ] || fail "tokenize: $(cat "$work/body")"
expect_status 200 "detokenize" "${auth[@]}" "${json[@]}" -d '{"tokens": [76,109,37]}' "$base/detokenize"
[ "$(cat "$work/body")" = '{"content":"Hi!"}' ] || fail "detokenize: $(cat "$work/body")"

curl -sN "${auth[@]}" "${json[@]}" "$base/v1/chat/completions" \
  -d '{"model": "tiny", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 5, "stream": true}' \
  > "$work/sse"
grep -v '^$' "$work/sse" | grep -qv '^data: ' && fail "a non-data SSE line: $(cat "$work/sse")"
[ "$(grep -v '^$' "$work/sse" | tail -1)" = "data: [DONE]" ] || fail "the stream does not end with [DONE]"

curl -s "${auth[@]}" "$base/metrics" > "$work/metrics"
for name in longcat_requests_running longcat_requests_waiting longcat_prompt_tokens_total \
  longcat_generation_tokens_total longcat_time_to_first_token_seconds_bucket \
  longcat_time_per_output_token_seconds_bucket longcat_kv_cache_usage_ratio longcat_batch_size_mean \
  longcat_real_experts_per_token longcat_step_gap_seconds_bucket; do
  grep -q "^$name" "$work/metrics" || fail "/metrics lacks $name"
done

# ---- SIGTERM while a stream runs: the stream completes, the server exits 0
curl -sN "${auth[@]}" "${json[@]}" "$base/v1/completions" \
  -d '{"model": "tiny", "prompt": [5, 6, 7], "max_tokens": 300, "ignore_eos": true, "stream": true}' \
  > "$work/last" &
curl_pid=$!
for _ in $(seq 1 100); do grep -q '^data: {' "$work/last" 2>/dev/null && break; sleep 0.05; done
kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=
[ "$status" = 0 ] || fail "the server exited $status after SIGTERM"
wait "$curl_pid" || fail "the stream broke at shutdown"
grep -q '"finish_reason":"length"' "$work/last" || fail "the stream was cut short at shutdown"
[ "$(grep -v '^$' "$work/last" | tail -1)" = "data: [DONE]" ] || fail "no [DONE] after shutdown"
grep -q "draining" "$work/server.log" || fail "no drain message"
echo "server e2e: all passed"
