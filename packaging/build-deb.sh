#!/usr/bin/env bash
# Builds the .deb: the release binary, shell completions and man pages generated from that
# binary, then `cargo deb --no-build`. Needs cargo-deb (`cargo install cargo-deb --locked`).
#
#   packaging/build-deb.sh                      # release build, .deb in target/debian/
#   packaging/build-deb.sh --output DIR         # put the .deb in DIR
#   packaging/build-deb.sh --binary PATH --fast # package an already built nvctk (tests do this)
set -euo pipefail
cd "$(dirname "$0")/.."

out=target/debian
fast=()
binary=""
while [ $# -gt 0 ]; do
  case "$1" in
    --output) out="$2"; shift 2 ;;
    --binary) binary="$2"; shift 2 ;;
    --fast) fast=(--fast); shift ;;
    *) echo "error: unknown argument $1" >&2; exit 2 ;;
  esac
done

if ! cargo deb --version >/dev/null 2>&1; then
  echo "error: cargo-deb is missing" >&2
  echo "hint: cargo install cargo-deb --locked" >&2
  exit 2
fi

if [ -n "$binary" ]; then
  # cargo-deb takes the binary from <target dir>/release/: stage the given one in a target
  # dir of its own, so a real release build is never overwritten.
  [ -x "$binary" ] || { echo "error: $binary is not an executable" >&2; exit 2; }
  stage="$PWD/target/deb-stage"
  mkdir -p "$stage/release"
  cp "$binary" "$stage/release/nvctk"
  export CARGO_TARGET_DIR="$stage"
  bin="$stage/release/nvctk"
else
  cargo build --locked --release --bin nvctk
  bin="${CARGO_TARGET_DIR:-target}/release/nvctk"
fi

assets=target/assets
rm -rf "$assets"
mkdir -p "$assets/completions" "$assets/man"
"$bin" completions bash > "$assets/completions/nvctk.bash"
"$bin" completions zsh > "$assets/completions/_nvctk"
"$bin" completions fish > "$assets/completions/nvctk.fish"
"$bin" --quiet man --dir "$assets/man"

mkdir -p "$out"
cargo deb --no-build --locked "${fast[@]}" --output "$out"
