"""The optional notification hook: a JSON POST to a webhook and/or a mail through an SMTP
server, both configured by environment variables (pipelines/resources.py, `Notifier`).

A failing channel never raises: an alert must not hide the failure it reports. Each call
returns one line per channel saying what happened, for the sensor's log.
"""

from __future__ import annotations

import json
import smtplib
import urllib.error
import urllib.request
from email.message import EmailMessage

TIMEOUT_SECONDS = 10


def notify(settings, subject: str, body: dict) -> list[str]:
    outcomes = []
    if settings.webhook_url:
        outcomes.append(_post(settings.webhook_url, {"subject": subject, **body}))
    if settings.smtp_host and settings.mail_to:
        outcomes.append(_mail(settings, subject, body))
    return outcomes


def _post(url: str, payload: dict) -> str:
    request = urllib.request.Request(
        url, data=json.dumps(payload, default=str).encode(), method="POST",
        headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return f"webhook: HTTP {response.status}"
    except (urllib.error.URLError, OSError) as exc:
        return f"webhook: not delivered ({exc})"


def _mail(settings, subject: str, body: dict) -> str:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.mail_from or "oligo-warehouse@localhost"
    message["To"] = settings.mail_to
    message.set_content("\n".join(f"{key}: {value}" for key, value in body.items()))
    try:
        with smtplib.SMTP(settings.smtp_host, int(settings.smtp_port or 25),
                          timeout=TIMEOUT_SECONDS) as server:
            server.send_message(message)
        return f"mail: sent to {settings.mail_to}"
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        return f"mail: not sent ({exc})"
