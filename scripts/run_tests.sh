#!/usr/bin/env bash
# The whole test suite in two parts (`make test`; the arguments after the first go to pytest):
#   1. everything except the tests that run alone, on one xdist worker per core, two at most
#      (a file's tests stay on one worker; most of the time of the end-to-end tests is calls
#      played at real speed, so two files side by side take little longer than one);
#   2. the tests marked `models` (they load the real models and use a core each) or `timing`
#      (they hold a latency bound), one at a time with nothing beside them.
# Both parts always run; the exit status is the first part's if it failed, else the second's.
# A part that PYTEST_ARGS leaves empty (pytest's status 5) is not a failure, but both empty is.
set -u
BIN=$1
shift
# One worker per core, two at most: the tests' Redis databases are apart for two (tests/redis_dbs.py).
CORES=$(nproc)
WORKERS=${VELOX_TEST_WORKERS:-$((CORES < 2 ? CORES : 2))}

"$BIN/python" -m pytest -n "$WORKERS" --dist loadfile --alone=without "$@"
parallel=$?
"$BIN/python" -m pytest --alone=only "$@"
alone=$?

if [ "$parallel" -eq 5 ] && [ "$alone" -eq 5 ]; then
    exit 5
fi
for status in "$parallel" "$alone"; do
    if [ "$status" -ne 0 ] && [ "$status" -ne 5 ]; then
        exit "$status"
    fi
done
exit 0
