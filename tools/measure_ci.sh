#!/usr/bin/env bash
# Measure a clean CI run: a fresh clone of HEAD (no target/), shared/ beside it, `.ci/run` timed.
# Appends a row to bench/ci_run.csv (read into bench/results.md by `make bench`). Takes as long as
# CI does (~17 min on 2 cores); run it on an otherwise idle machine.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
git clone -q "$root" "$work/main"
ln -s "$(cd "$root/../shared" && pwd)" "$work/shared"
commit="$(git -C "$work/main" rev-parse --short HEAD)"
start=$(date +%s)
(cd "$work/main" && env -u CARGO_TARGET_DIR CI=true bash .ci/run > "$work/ci.log" 2>&1)
end=$(date +%s)
build=$(grep -m1 -o 'Finished `release` profile \[optimized\] target(s) in [0-9m .]*s' "$work/ci.log" | sed 's/.* in //')
echo "$commit,$((end - start)),$build,$(nproc)" >> "$root/bench/ci_run.csv"
echo "clean .ci/run at $commit: $((end - start)) s (first release build: $build)"
rm -rf "$work"
