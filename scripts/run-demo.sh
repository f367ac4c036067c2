#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs the bundled default model.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DLONGCAT_TESTS=OFF -DLONGCAT_BENCH=OFF >/dev/null
cmake --build build -j"$(nproc)" --target longcat
# The bundled default model: a small LongCat-Flash-architecture model trained on TinyStories by `longcat train`
# (models/longcat-tinystories/README.md). The story streams to stdout as it is generated.
model="${LONGCAT_MODEL:-models/longcat-tinystories}"
prompt="${LONGCAT_PROMPT:-Once upon a time, there was a little girl named Lily. She}"
echo "== longcat generate --model $model --prompt \"$prompt\" (temperature 0.8, seed 1)" >&2
./build/longcat generate --model "$model" --prompt "$prompt" --temperature 0.8 --top-p 0.95 --seed 1 \
  --max-new-tokens 200 "$@"
echo >&2
