#!/usr/bin/env bash
# Make sure the browser end-to-end tests (tests/e2e/test_browser_conversation.py) can run:
#   Chromium  /usr/bin/chromium, the Debian package (never a browser downloaded by playwright)
#   npm       to install the page's packages (@elevenlabs/client, esbuild)
#   tests/e2e/browser/node_modules, from package-lock.json (npm ci)
# Installs what is missing with apt-get (as root, or via sudo), and exits non-zero with a clear
# message if it cannot. Quiet and quick when everything is present; safe to run any number of times.
set -euo pipefail

BROWSER_DIR="$(cd "$(dirname "$0")/.." && pwd)/tests/e2e/browser"

say() { printf 'ensure_browser: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null 2>&1 || die "$1 is missing and apt-get is not available; install the Debian package $1 yourself"
    if [ "$APT_UPDATED" -eq 0 ]; then
        say "apt-get update"
        root env DEBIAN_FRONTEND=noninteractive apt-get update -q || die "apt-get update failed"
        APT_UPDATED=1
    fi
    say "apt-get install $1"
    root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" || die "apt-get install $1 failed"
}

[ -x /usr/bin/chromium ] || apt_install chromium
[ -x /usr/bin/chromium ] || die "/usr/bin/chromium is still missing after installing the chromium package"

command -v npm >/dev/null 2>&1 || apt_install npm
command -v npm >/dev/null 2>&1 || die "npm is still missing after installing the npm package"

if [ ! -d "$BROWSER_DIR/node_modules" ]; then
    say "npm ci in tests/e2e/browser"
    (cd "$BROWSER_DIR" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in $BROWSER_DIR failed"
fi
