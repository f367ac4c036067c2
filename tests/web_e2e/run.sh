#!/usr/bin/env bash
# End-to-end test of the web chat page of `longcat serve` (registered with CTest as web_e2e): starts the real
# server with an API key on a free loopback port with the tiny fixture model and the server e2e tests'
# byte-level tokenizer, then drives the page in headless Chromium (Debian's chromium, never a downloaded
# browser) with playwright-core, pinned in package-lock.json (web.test.mjs).
#   usage: run.sh [path/to/longcat]
#   LONGCAT_WEB_SCREENSHOT=docs/img/web_chat.png LONGCAT_WEB_MODEL=models/longcat-tinystories run.sh
#     also writes the docs' screenshot there, from a model that writes words
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=$(realpath "${1:-$repo/build/longcat}")
key=web-test-key

for tool in node npm curl; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is missing (scripts/setup.sh installs it)"; exit 77; }
done
browser=${LONGCAT_CHROMIUM:-/usr/bin/chromium}
[ -x "$browser" ] || { echo "SKIP: $browser is missing (scripts/setup.sh installs Debian's chromium)"; exit 77; }
if [ ! -d "$here/node_modules/playwright-core" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; echo "--- server log" >&2; cat "$work/server.log" >&2 || true; exit 1; }

if [ -n "${LONGCAT_WEB_MODEL:-}" ]; then  # another model folder with a tokenizer (the docs' screenshot)
  model=$(realpath "$LONGCAT_WEB_MODEL")
else
  model="$work/tiny"
  mkdir -p "$model"
  cp "$repo/tests/data/models/tiny/"*.json "$repo/tests/data/models/tiny/model.safetensors" "$model/"
  node "$repo/tests/server_e2e/make_tokenizer.mjs" > "$model/tokenizer.json"
fi

"$bin" serve --model "$model" --port 0 --port-file "$work/port" --api-key "$key" --threads 2 \
  2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 600); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || fail "the server did not bind a port"
base="http://127.0.0.1:$(cat "$work/port")"
for _ in $(seq 1 600); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/health")" = 200 ] && break
  sleep 0.1
done
echo "server at $base"

screenshot=${LONGCAT_WEB_SCREENSHOT:+$(realpath -m "$LONGCAT_WEB_SCREENSHOT")}
LONGCAT_URL=$base LONGCAT_KEY=$key LONGCAT_MODEL=$model LONGCAT_CHROMIUM=$browser LONGCAT_WORK=$work LONGCAT_WEB_SCREENSHOT=$screenshot \
  node --test "$here/web.test.mjs" || fail "browser tests"
echo "web e2e: all passed"
