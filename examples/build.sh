#!/usr/bin/env bash
# Rebuilds the examples' BPF objects: examples/NAME.bpf.c -> NAME.bpf.o next to it,
# with the flags of test/fixtures/build.sh. The .o files are committed, so running an
# example needs no clang; run this after changing a .c file (clang-19, libbpf-dev).
#   examples/build.sh            rebuild all
#   examples/build.sh FILE.c...  rebuild some
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
clang=${CLANG:-clang-19}
command -v "$clang" >/dev/null || { echo "build.sh: $clang not found (apt-get install clang-19)" >&2; exit 1; }
if [ $# -gt 0 ]; then sources=("$@"); else mapfile -t sources < <(find "$here" -maxdepth 1 -name '*.bpf.c' | sort); fi
for i in "${!sources[@]}"; do sources[$i]=$(realpath "${sources[$i]}"); done
# clang reads source lines for BTF line info through the remapped path: build from
# the parent directory so "examples/..." resolves; the prefix map keeps build paths out.
cd "$here/.."
for src in "${sources[@]}"; do
  out=${src%.c}.o
  "$clang" -O2 -g -target bpf -mcpu=v3 -I/usr/include/x86_64-linux-gnu \
    -fdebug-prefix-map="$here"=examples -fdebug-compilation-dir=examples \
    -c "$src" -o "$out"
  echo "built ${out#$here/}"
done
