"""Alerts: a failed run (no pseudonymisation secret: one line, no traceback) reaches the
run-failure sensor, which completes the run report and calls the notification hook: a
webhook and an SMTP server, both real local servers started by the test. And the
freshness check, passing after a publish and failing when the limit is exceeded."""

import datetime as dt
import email
import email.policy
import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import dagster as dg
import duckdb
import pytest

from pipelines.dagster_home import dagster_instance
from pipelines.freshness import freshness_result
from pipelines.resources import Notifier
from pipelines.runner import run_batches
from pipelines.sensors import run_failure_report
from pipelines.settings import paths
from tests.pipeline.helpers import BATCH


@pytest.fixture
def webhook():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


@pytest.fixture
def smtp():
    """Just enough SMTP (RFC 5321) to accept one message."""
    received: list[str] = []

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            self.wfile.write(b"220 localhost ready\r\n")
            data, lines = False, []
            for raw in self.rfile:
                line = raw.decode().rstrip("\r\n")
                if data:
                    if line == ".":
                        data = False
                        received.append("\n".join(lines))
                        self.wfile.write(b"250 queued\r\n")
                    else:
                        lines.append(line)
                    continue
                verb = line.split(" ", 1)[0].upper()
                if verb == "DATA":
                    data = True
                    self.wfile.write(b"354 go ahead\r\n")
                elif verb == "QUIT":
                    self.wfile.write(b"221 bye\r\n")
                    return
                else:
                    self.wfile.write(b"250 ok\r\n")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], received
    server.shutdown()
    server.server_close()


def test_a_failed_run_is_reported_and_notified(home, monkeypatch, webhook, smtp):
    url, posted = webhook
    port, mails = smtp
    monkeypatch.setenv("OLIGO_PSEUDONYM_SECRET", "")
    [outcome] = run_batches(batch_id=BATCH)
    assert outcome.status == "failed"
    assert outcome.message.startswith("no pseudonymisation secret")
    assert "\n" not in outcome.message and "Traceback" not in outcome.message

    instance = dagster_instance()
    run = instance.get_run_by_id(outcome.run_id)
    [failure] = [r.event_log_entry.dagster_event for r in instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records]
    notifier = Notifier(webhook_url=url, smtp_host="127.0.0.1", smtp_port=str(port),
                        mail_to="data-manager@example.org")
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_report", dagster_instance=instance, dagster_run=run,
        dagster_event=failure, resources={"notifier": notifier}).for_run_failure()
    run_failure_report(context)

    [alert] = posted
    assert alert["run_id"] == run.run_id and alert["batch_id"] == BATCH
    assert alert["status"] == "failed" and alert["message"] == outcome.message
    [mail] = [email.message_from_string(m, policy=email.policy.default) for m in mails]
    assert mail["Subject"] == f"oligo warehouse: run failed for batch {BATCH}"
    assert f"message: {outcome.message}" in mail.get_content()


def test_freshness_passes_after_a_publish_and_fails_past_the_limit(home, monkeypatch):
    result = freshness_result()
    assert result.passed, result.description
    monkeypatch.setenv("OLIGO_FRESHNESS_DAYS", "3")
    with duckdb.connect(str(paths().ops), read_only=True) as con:
        last = con.execute("select max(published_at) from ops.ops.batches").fetchone()[0]
    late = freshness_result(now=last + dt.timedelta(days=4))
    assert not late.passed
    assert "4.0 days" in late.description and "3 days" in late.description
