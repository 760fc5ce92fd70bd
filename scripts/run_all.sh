#!/usr/bin/env bash
# `make run`: the API and the workers together on one machine, sharing this environment.
#   scripts/run_all.sh [BIN]   (BIN: the directory holding `velox`, default .venv/bin)
# Migrates once first, so they never race to create the schema; then runs, each in a session
# of its own, `velox worker` with its embedded beat (the dialer, webhooks, clean-ups), one task
# process for post-call analysis (a language model per call, on a queue of its own so it never
# holds up the dialer), one for knowledge-base indexing (embeddings, minutes for a large
# document: on its own queue too) and `velox serve`.
#
# Stopping: Ctrl-C, a SIGTERM to this script or to its process group, or `velox serve` ending,
# stops all of them the same way. Each is asked once (SIGTERM: the workers finish the task they
# are running, serve drains); whatever still runs VELOX_STOP_TIMEOUT_S seconds later (default
# 30) is killed with everything it started. The workers are kept out of this script's process
# group so that a signal to the group reaches their pools only through their own main process:
# a pool child signalled directly dies, and a worker in its warm shutdown starts a new one,
# which outlived it before (an orphan that ignored further SIGTERMs).
set -uo pipefail

BIN="${1:-.venv/bin}"
STOP_TIMEOUT_S="${VELOX_STOP_TIMEOUT_S:-30}"

"$BIN/velox" migrate || exit $?

pids=()
start() {
    # A background job of a script is not a group leader: setsid makes it one, in place.
    setsid "$@" &
    pids+=("$!")
}

alive() {
    local pid
    for pid in "${pids[@]}"; do
        kill -0 "$pid" 2>/dev/null && return 0
    done
    return 1
}

stopped=0
stop_all() {
    [ "$stopped" = 1 ] && return
    stopped=1
    local pid deadline=$((SECONDS + STOP_TIMEOUT_S))
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    while alive && [ "$SECONDS" -lt "$deadline" ]; do
        sleep 0.2
    done
    for pid in "${pids[@]}"; do
        # Each leads its own process group: this reaches a worker's pool and a serve's helpers.
        if kill -0 "$pid" 2>/dev/null; then
            echo "run_all: process $pid did not stop within ${STOP_TIMEOUT_S}s: killed" >&2
        fi
        kill -KILL -- "-$pid" 2>/dev/null
    done
    wait 2>/dev/null
}
trap 'stop_all; exit 143' TERM
trap 'stop_all; exit 130' INT HUP
trap stop_all EXIT

start "$BIN/velox" worker --queues celery
start "$BIN/velox" worker --no-beat --queues analysis --concurrency 1
start "$BIN/velox" worker --no-beat --queues knowledge --concurrency 1
start "$BIN/velox" serve
serve_pid="${pids[3]}"

wait "$serve_pid"
status=$?
stop_all
exit "$status"
