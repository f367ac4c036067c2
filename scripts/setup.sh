#!/usr/bin/env bash
# Installs the Debian packages longcat.cpp needs; safe to run again (only missing packages are installed).
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  nlohmann-json3-dev    # config.json, safetensors headers, tokenizer.json
  libcli11-dev          # command-line parsing of the longcat command
  libpcre2-dev          # tokenizer pre-tokenizer regexes (\p{L}, lookahead) with JIT
  libcpp-httplib-dev    # HTTP server of `longcat serve`
  libgtest-dev libgmock-dev  # unit and fixture tests
  libbenchmark-dev      # kernel microbenchmarks
  libopenblas-dev       # FMA yardstick in benchmarks only (never in the model path)
  clang libclang-rt-14-dev  # libFuzzer targets for the header and config parsers
  python3-jinja2        # tests/hf_tokenizer: renders the trained tokenizer's chat template like transformers
  chromium              # tests/web_e2e: the web chat page of `serve` in a real headless browser (playwright-core
                        # drives it; Playwright's own browser download is never used)
  curl                  # tests/server_e2e, tests/web_e2e: the raw HTTP protocol and the servers' readiness checks
  python3               # tests/expert_parallel/check_stats.py, tests/hf_tokenizer (chat template rendering)
  libopenmpi-dev openmpi-bin  # expert parallelism across processes and hosts (src/dist/, mpirun)
  iproute2              # tests/expert_parallel: network namespaces, veth links and tbf shaping (ip, tc)
)
# Node.js tests: the server's end-to-end tests drive it with the OpenAI Node SDK (tests/server_e2e), and
# tests/hf_tokenizer checks tokenizer-train's output with the Hugging Face tokenizers library. Debian's Node.js
# (18) and npm, unless a Node.js with npm is already installed (e.g. NodeSource's, whose nodejs ships npm).
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed" >&2
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done" >&2
