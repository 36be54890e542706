#!/usr/bin/env bash
# What the test suite needs beyond `pnpm install`, installed only where missing; run by `pnpm test`.
# Each missing piece is named with the tests that need it. Without root or apt-get it installs
# nothing and stops at once with the exact command to run.
set -euo pipefail

say() { printf '[test prerequisites] %s\n' "$*" >&2; }

# Debian package | how to tell it is there | which tests need it
missing=()
reasons=()
need() {
  local package=$1 present=$2 why=$3
  if ! eval "$present" >/dev/null 2>&1; then
    missing+=("$package")
    reasons+=("$package: $why")
  fi
}
need dataset-fashion-mnist '[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte ]' \
  "the Fashion-MNIST IDX files in /usr/share/datasets/fashion-mnist, for the data set loader's test on the real files"
need redis-server 'command -v redis-server' \
  'a Redis server the queue tests (apps/bench/src/queue) start on 127.0.0.1 and stop again'
need chromium '[ -x /usr/bin/chromium ]' \
  'headless Chromium (driven by playwright-core, no browser download) for the browser tests'

# The native TF.js backend (tfjs-node's addon + libtensorflow): every test also runs on it (the
# vitest projects named <folder>:tensorflow). `pnpm native:install` builds it; it needs a compiler
# and pip, asked for here only when the backend is missing.
native_ok() { node -e "require('@tensorflow/tfjs-node')" >/dev/null 2>&1; }
if ! native_ok; then
  native_why='to build the native TF.js backend (pnpm native:install) that the *:tensorflow test projects run on'
  need g++ 'command -v g++' "a C++ compiler, $native_why"
  need make 'command -v make' "make, $native_why"
  need python3-pip 'python3 -m pip --version' "pip, $native_why (it downloads the tensorflow-cpu wheel)"
fi

if [ ${#missing[@]} -gt 0 ]; then
  for reason in "${reasons[@]}"; do say "missing $reason"; done
  command="apt-get update && apt-get install -y ${missing[*]}"
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
      say "not root, so nothing was installed. Run: sudo sh -c '$command'  and then the tests again."
    else
      say "no apt-get here, so nothing was installed. Install the equivalents of: ${missing[*]}  (on Debian: $command)."
    fi
    exit 1
  fi
  say "installing ${missing[*]} with apt-get (one apt-get update first)…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
  say "installed ${missing[*]}."
fi

if ! native_ok; then
  say "missing the native TF.js backend (@tensorflow/tfjs-node's addon and libtensorflow): the *:tensorflow"
  say "test projects run every test on it. Building it with pnpm native:install (≈1 min, ≈640 MB in node_modules)…"
  pnpm native:install
fi
