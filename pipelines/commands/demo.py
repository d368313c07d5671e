"""`oligo demo`: generate a synthetic batch, run the pipeline, serve the dashboards and the
Dagster UI (webserver and daemon, loopback only). Ctrl-C stops all three.

The daemon runs the delivery sensor: a new batch folder dropped into `<OLIGO_HOME>/exports`
is published without any command. Demo mode is on for these processes (synthetic data, the
announced demo pseudonym secret). Says plainly what it did and which parts are not built yet.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pipelines.settings import paths

REPO = Path(__file__).resolve().parents[2]


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("demo", help="generate, load and serve a synthetic registry")
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-id", default="demo-2026-10-31")
    parser.add_argument("--cutoff", default="2026-10-31")
    parser.add_argument("--port", type=int, default=8501, help="dashboards port")
    parser.add_argument("--dagster-port", type=int, default=3000, help="Dagster UI port")
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
    return serve(where.home, app, args.port, args.dagster_port)


def serve(home: Path, app: Path, port: int, dagster_port: int) -> int:
    from pipelines.dagster_home import ensure_dagster_home

    env = dict(os.environ, OLIGO_HOME=str(home), OLIGO_DEMO_MODE="true",
               DAGSTER_HOME=str(ensure_dagster_home()))
    bin_dir = Path(sys.executable).parent
    workspace = str(REPO / "workspace.yaml")
    commands = {
        "dashboards": [sys.executable, "-m", "streamlit", "run", str(app),
                       "--server.address", "127.0.0.1", "--server.port", str(port),
                       "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        "Dagster UI": [str(bin_dir / "dagster-webserver"), "-h", "127.0.0.1", "-p",
                       str(dagster_port), "-w", workspace],
        "Dagster daemon": [str(bin_dir / "dagster-daemon"), "run", "-w", workspace],
    }
    say(f"dashboards on http://127.0.0.1:{port}, Dagster UI on http://127.0.0.1:"
        f"{dagster_port} (runs, checks, freshness; DAGSTER_HOME={env['DAGSTER_HOME']})")
    say(f"drop a batch folder into {home / 'exports'} and the daemon publishes it; "
        "Ctrl-C stops everything")
    processes = {name: subprocess.Popen(cmd, cwd=REPO, env=env) for name, cmd in
                 commands.items()}
    try:
        while all(p.poll() is None for p in processes.values()):
            time.sleep(0.5)
        stopped = [name for name, p in processes.items() if p.poll() is not None]
        say(f"{', '.join(stopped)} stopped; stopping the others")
        code = 1
    except KeyboardInterrupt:
        code = 0
    stop_all(processes.values())
    return code


def stop_all(processes, grace_seconds: float = 15) -> None:
    """SIGINT (the terminal may have sent it already), then SIGKILL after the grace time."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + grace_seconds
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _has_generator() -> bool:
    return (REPO / "pipelines" / "commands" / "generate.py").exists()
