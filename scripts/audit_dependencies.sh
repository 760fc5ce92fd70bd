#!/usr/bin/env bash
# `make audit` (and the last step of `make check`): the locked dependencies against the public
# advisory databases, as a report. Python: pip-audit over requirements.lock, each pin as it is
# (--no-deps: the lock is the whole tree), against PyPI's vulnerability data. JavaScript:
# `npm audit` over the dashboard's and the field app's package-lock.json (no node_modules
# needed). Both need the network; what could not be checked is said, never counted as clean.
#   scripts/audit_dependencies.sh [BIN]   (BIN: the directory holding python, default .venv/bin)
# Exit status: 0 (a report) unless AUDIT_STRICT=1, when a finding or an unchecked audit fails it.
set -uo pipefail

BIN="${1:-.venv/bin}"
status=0
pins=$(mktemp)
trap 'rm -f "$pins"' EXIT
grep -Ev '^\s*(#|$)' requirements.lock > "$pins"

echo "== pip-audit: $(wc -l < "$pins") pins of requirements.lock"
report=$("$BIN/python" -m pip_audit --requirement "$pins" --no-deps --disable-pip \
    --progress-spinner off 2>&1)
code=$?
echo "$report" | grep -v "^WARNING:pip_audit._cli:"
skipped=$(echo "$report" | grep -c "could not be audited" || true)
if [ "$code" -ne 0 ]; then
    echo "pip-audit: vulnerabilities found or the audit failed (exit $code)"
    status=1
fi
if [ "$skipped" -gt 0 ]; then
    echo "pip-audit: $skipped pins could NOT be checked (the advisory data did not answer for them)"
    status=1
fi

for app in web_dashboard mobile_app; do
    echo "== npm audit: $app/package-lock.json"
    if ! (cd "$app" && npm audit --package-lock-only --audit-level=high); then
        echo "npm audit ($app): vulnerabilities at high or above, or the audit could not run"
        status=1
    fi
done

if [ "$status" -ne 0 ] && [ "${AUDIT_STRICT:-0}" = 1 ]; then
    exit 1
fi
exit 0
