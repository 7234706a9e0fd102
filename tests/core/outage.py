"""A real database outage for one request: the request runs in its own thread,
whose new connection points at a closed port (Django opens one connection per
thread from `connections.settings`); the test's own connection is untouched."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections

CLOSED_PORT = "1"


def during_outage(call: Callable[[], Any]) -> Any:
    saved = connections.settings["default"]
    options = {k: v for k, v in saved.get("OPTIONS", {}).items() if k != "host"}
    connections.settings["default"] = {**saved, "HOST": "127.0.0.1", "PORT": CLOSED_PORT, "OPTIONS": options}
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = call()
        except BaseException as exc:  # handed to the test's thread
            result["error"] = exc
        finally:
            connections.close_all()

    try:
        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
    finally:
        connections.settings["default"] = saved
    if "error" in result:
        raise result["error"]
    return result["value"]
