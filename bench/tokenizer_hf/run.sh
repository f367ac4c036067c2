#!/usr/bin/env bash
# Runs the C++ tokenizer benchmark and the Hugging Face reference on the same documents, one after the other.
#   bench/tokenizer_hf/run.sh path/to/tokenizer_bench
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bench="${1:?usage: run.sh path/to/tokenizer_bench}"
docs="$(mktemp --suffix=.json)"
trap 'rm -f "$docs"' EXIT
"$bench" --write-docs "$docs"
cd "$here"
[ -d node_modules/@anush008/tokenizers ] || npm ci --no-audit --no-fund >&2
RAYON_NUM_THREADS=1 node bench.mjs "$docs" "$here/../../tests/data/tokenizers"
