#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs the bundled default model.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DLONGCAT_TESTS=OFF -DLONGCAT_BENCH=OFF >/dev/null
cmake --build build -j"$(nproc)" --target longcat
model="${LONGCAT_MODEL:-tests/data/models/tiny}"
echo "== longcat generate --model $model (greedy, 32 tokens)" >&2
./build/longcat generate --model "$model" --ids 1,17,42,99 --temperature 0 --max-new-tokens 32 --ignore-eos "$@"
