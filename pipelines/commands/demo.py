"""`oligo demo`: generate a synthetic batch, run the pipeline, serve the dashboards.

Says plainly what it did and which parts are not built yet.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from pipelines.settings import paths

REPO = Path(__file__).resolve().parents[2]


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("demo", help="generate, load and serve a synthetic registry")
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-id", default="demo-2026-10-31")
    parser.add_argument("--cutoff", default="2026-10-31")
    parser.add_argument("--port", type=int, default=8501)
    parser.add_argument("--no-serve", action="store_true", help="stop after loading")
    parser.set_defaults(func=main)


def say(text: str) -> None:
    print(f"[demo] {text}", flush=True)


def main(args: argparse.Namespace) -> int:
    from pipelines.cli import main as oligo

    where = paths()
    say(f"data folder: {where.home} (set OLIGO_HOME to change it)")
    batch_dir = where.exports / args.batch_id
    if importlib.util.find_spec("pipelines.synthetic") and _has_generator():
        if batch_dir.exists():
            say(f"synthetic batch already generated: {batch_dir}")
        else:
            say(f"generating {args.patients} synthetic patients (seed {args.seed}) ...")
            code = oligo(["generate", "--patients", str(args.patients), "--seed", str(args.seed),
                          "--out", str(where.exports), "--batch-id", args.batch_id,
                          "--cutoff", args.cutoff])
            if code:
                return code
    else:
        say("not built yet: the synthetic generator; nothing to load")
        return 0
    say("running the pipeline in demo mode (announced demo pseudonym secret) ...")
    code = oligo(["run", "--batch", args.batch_id, "--demo"])
    if code:
        say("the pipeline did not publish; see the messages above and `oligo status`")
        return code
    oligo(["status"])
    app = REPO / "dashboards" / "app.py"
    if not app.exists():
        say("not built yet: the dashboards; query the warehouse with `oligo sql`")
        return 0
    if args.no_serve:
        return 0
    say(f"serving the dashboards on http://127.0.0.1:{args.port} (Ctrl-C to stop)")
    env = dict(os.environ, OLIGO_HOME=str(where.home))
    return subprocess.call(
        [sys.executable, "-m", "streamlit", "run", str(app), "--server.address", "127.0.0.1",
         "--server.port", str(args.port), "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=REPO, env=env,
    )


def _has_generator() -> bool:
    return (REPO / "pipelines" / "commands" / "generate.py").exists()
