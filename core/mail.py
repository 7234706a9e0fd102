"""Development mail backend: each message to `.data/mail/` and to the console.

A person trying `make run` reads OTP codes and temporary passwords here.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend


class OutboxAndConsoleBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        outbox = Path(settings.MAIL_OUTBOX_DIR)
        outbox.mkdir(parents=True, exist_ok=True)
        for i, message in enumerate(email_messages):
            stamp = datetime.now(tz=UTC).strftime("%Y%m%d-%H%M%S-%f")
            (outbox / f"{stamp}-{i}.eml").write_bytes(message.message().as_bytes())
            sys.stdout.write(
                f"\n===== E-MAIL to {', '.join(message.to)} =====\n"
                f"Oggetto: {message.subject}\n\n{message.body}\n"
                f"===== fine e-mail (copia in {outbox}) =====\n"
            )
            sys.stdout.flush()
        return len(email_messages)
