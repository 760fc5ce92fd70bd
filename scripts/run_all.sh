#!/usr/bin/env bash
# `make run`: the API and the workers together on one machine, sharing this environment.
#   scripts/run_all.sh [BIN]   (BIN: the directory holding `velox`, default .venv/bin)
# Migrates once first, so they never race to create the schema; runs two workers in the
# background — `velox worker` with its embedded beat for the dialer, webhooks and clean-ups, and
# one task process for post-call analysis (a language model per call, on a queue of its own so
# it never holds up the dialer) — and `velox serve` in the foreground; stops the workers when
# serve exits (Ctrl-C stops all three).
set -uo pipefail

BIN="${1:-.venv/bin}"

"$BIN/velox" migrate || exit $?

"$BIN/velox" worker --queues celery &
worker_pid=$!
"$BIN/velox" worker --no-beat --queues analysis --concurrency 1 &
analysis_pid=$!

stop_workers() {
    for pid in "$worker_pid" "$analysis_pid"; do
        # A warm shutdown: the worker finishes the tasks it is running, then exits.
        kill -TERM "$pid" 2>/dev/null
    done
    wait "$worker_pid" "$analysis_pid" 2>/dev/null
}
trap stop_workers EXIT

"$BIN/velox" serve
