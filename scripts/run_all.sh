#!/usr/bin/env bash
# `make run`: the API and the workers together on one machine, sharing this environment.
#   scripts/run_all.sh [BIN]   (BIN: the directory holding `velox`, default .venv/bin)
# Migrates once first, so the two never race to create the schema; runs `velox worker` (with
# its embedded beat) in the background and `velox serve` in the foreground, and stops the
# worker when serve exits (Ctrl-C stops both).
set -uo pipefail

BIN="${1:-.venv/bin}"

"$BIN/velox" migrate || exit $?

"$BIN/velox" worker &
worker_pid=$!

stop_worker() {
    if kill -0 "$worker_pid" 2>/dev/null; then
        # A warm shutdown: the worker finishes the tasks it is running, then exits.
        kill -TERM "$worker_pid" 2>/dev/null
        wait "$worker_pid" 2>/dev/null
    fi
}
trap stop_worker EXIT

"$BIN/velox" serve
