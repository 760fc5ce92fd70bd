"""`python -m bench`'s command line: which sections run, how long, and where the figures go."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def parse_options(
    description: str | None, feel_probes: int, feel_offline_probes: int, feel_crowd_rounds: int
) -> argparse.Namespace:
    """The options `python -m bench` was run with (its output file resolved)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=description)
    parser.add_argument("--quick", action="store_true", help="a short smoke run (about 3 minutes)")
    parser.add_argument("--steps", help="comma-separated call counts, e.g. 10,50")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--skip-offline", action="store_true", help="also skips feel's offline run")
    parser.add_argument("--skip-feel", action="store_true", help="keeps the file's section 4")
    parser.add_argument("--skip-sip", action="store_true", help="keeps the file's section 16")
    parser.add_argument(
        "--only",
        choices=("offline", "feel", "dialer", "stress", "queries", "sip", "soak"),
        help="run one section and replace it in the existing output file",
    )
    parser.add_argument("--skip-soak", action="store_true", help="keeps the file's section 18")
    parser.add_argument("--soak-calls", type=int, help="calls at once (default 50; full: 200)")
    parser.add_argument("--soak-minutes", type=float, help="soak duration (default 2; full: 10)")
    parser.add_argument(
        "--feel-probes", type=int, help=f"probes per kind (default {feel_probes}, quick 2)"
    )
    parser.add_argument(
        "--feel-offline-probes",
        type=int,
        help=f"hesitations and backchannels on the offline stack (default {feel_offline_probes})",
    )
    parser.add_argument(
        "--feel-crowd-rounds",
        type=int,
        help=(
            "rounds of mm-hmm, okay, two coughs and a hesitation on the offline stack, "
            f"several calls at once (default {feel_crowd_rounds}, quick 1; 0 skips)"
        ),
    )
    parser.add_argument(
        "--feel-calls", type=Path, help="also write each feel call's conversation to this folder"
    )
    parser.add_argument(
        "--stress-runs", type=int, default=20, help="runs per condition of `--only stress`"
    )
    parser.add_argument(
        "--calls",
        type=int,
        help="the organization's calls in `--only queries` (default 1,000,000; quick 20,000)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="server processes in the scale section (default: one per core, as VELOX_WORKERS)",
    )
    parser.add_argument(
        "--output", type=Path, help="default bench/RESULTS.md (quick: RESULTS-quick.md)"
    )
    args = parser.parse_args()
    if args.output is None:
        name = "RESULTS-quick.md" if args.quick else "RESULTS.md"
        args.output = Path(__file__).resolve().parent / name
    return args
