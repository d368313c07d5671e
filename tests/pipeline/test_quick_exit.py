"""`oligo` leaves without the interpreter's teardown, but nothing it wrote is lost."""

import subprocess
import sys
import textwrap


def _run(script: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)


def test_exit_code_streams_and_exit_handlers_survive(tmp_path):
    done = _run("""
        import atexit, pathlib, sys
        from pipelines.quick_exit import exit_now
        atexit.register(lambda: pathlib.Path("handler-ran").write_text("yes"))
        print("report without a newline", end="")
        print("to stderr", file=sys.stderr, end="")
        exit_now(3)
    """, tmp_path)
    assert done.returncode == 3
    assert done.stdout == "report without a newline"
    assert done.stderr == "to stderr"
    assert (tmp_path / "handler-ran").read_text() == "yes"


def test_a_running_thread_is_waited_for(tmp_path):
    done = _run("""
        import pathlib, threading, time
        from pipelines.quick_exit import exit_now
        def late():
            time.sleep(0.5)
            pathlib.Path("thread-finished").write_text("yes")
        threading.Thread(target=late).start()
        exit_now(0)
    """, tmp_path)
    assert done.returncode == 0
    assert (tmp_path / "thread-finished").read_text() == "yes"


def test_the_oligo_command_reports_and_exits(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--set", "bad"],
                          capture_output=True, text=True, timeout=120,
                          env={"OLIGO_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 2
    assert "--set needs NAME=VALUE" in done.stdout


def test_a_profiled_command_still_writes_its_profile(tmp_path):
    """`python -m pipelines.bench --profile N` runs `oligo` under cProfile: the profile is
    written at the normal exit, which the quick exit must not skip."""
    script = tmp_path / "command.py"
    script.write_text("from pipelines.quick_exit import exit_now\nexit_now(4)\n")
    done = subprocess.run([sys.executable, "-m", "cProfile", "-o", "out.prof", str(script)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.stderr == ""  # (cProfile reports its own exit code, not the command's)
    assert (tmp_path / "out.prof").stat().st_size > 0
