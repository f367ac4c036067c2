#!/usr/bin/env bash
# Acceptance test of `longcat tokenizer-train` against the Hugging Face tokenizers library (CTest
# `hf_tokenizer_agreement`): trains tokenizers on corpus.txt (plain and --bos-template), then checks with
# check_tokenizer.mjs that HF encodes/decodes exactly like longcat, also for models/longcat-tinystories when
# present, and with check_chat_template.py that the chat template renders like render_chat.
#   tests/hf_tokenizer/run.sh path/to/longcat
# Exit 77 (CTest: skipped) when node is not installed (scripts/setup.sh installs it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
longcat="$(cd "$(dirname "${1:?usage: run.sh path/to/longcat}")" && pwd)/$(basename "$1")"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "hf_tokenizer: node/npm not installed (scripts/setup.sh installs them); skipped" >&2
  exit 77
fi
if [ ! -d "$here/node_modules/@anush008/tokenizers" ]; then
  (cd "$here" && npm ci --no-audit --no-fund >&2)
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$longcat" tokenizer-train --data "$here/corpus.txt" --vocab-size 600 --min-frequency 1 --quiet --out "$work/plain"
"$longcat" tokenizer-train --data "$here/corpus.txt" --vocab-size 400 --bos-template --quiet --out "$work/bos"

cd "$here"
node check_tokenizer.mjs "$longcat" "$work/plain" corpus.txt
node check_tokenizer.mjs "$longcat" "$work/bos" corpus.txt
if [ -f "$repo/models/longcat-tinystories/tokenizer.json" ]; then
  node check_tokenizer.mjs "$longcat" "$repo/models/longcat-tinystories" corpus.txt
fi

if python3 -c "import jinja2" 2>/dev/null; then
  python3 check_chat_template.py "$work/plain" chat_cases.json
else
  echo "hf_tokenizer: python3-jinja2 not installed; chat template check skipped" >&2
fi
