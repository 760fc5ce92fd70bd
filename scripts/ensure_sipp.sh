#!/usr/bin/env bash
# Make sure the SIP end-to-end tests (tests/e2e/test_sip_call.py) can run: sipp, from the Debian
# package sip-tester. Installs it with apt-get (as root, or via sudo) when missing, and exits
# non-zero with a clear message if it cannot. Quiet and quick when it is present.
set -euo pipefail

say() { printf 'ensure_sipp: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

command -v sipp >/dev/null 2>&1 && exit 0

root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

command -v apt-get >/dev/null 2>&1 || die "sipp is missing and apt-get is not available; install the Debian package sip-tester yourself"
say "apt-get install sip-tester"
if ! root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q sip-tester; then
    root env DEBIAN_FRONTEND=noninteractive apt-get update -q || die "apt-get update failed"
    root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q sip-tester || die "apt-get install sip-tester failed"
fi
command -v sipp >/dev/null 2>&1 || die "sipp is still missing after installing sip-tester"
