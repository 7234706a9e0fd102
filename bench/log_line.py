"""What one request log line costs: a JSON `request_started` as production writes it, against the same
call at DEBUG (dropped by the level filter), in the same run.

The line goes through the configured pipeline (structlog, the stdlib formatter, the personal-data
redaction, the JSON renderer) to /dev/null. Prints the best of several repeats of each, per call.

    .venv/bin/python bench/log_line.py [--calls 2000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
os.environ["LOG_FORMAT"] = "json"  # production's lines
os.environ.setdefault("DATABASE_URL", "postgres://unused/unused")  # nothing here opens a connection

USER_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    import django

    django.setup()
    import structlog

    sink = open(os.devnull, "w")  # noqa: SIM115 (kept open for the whole run)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sink)
    log = structlog.get_logger("django_structlog.middlewares.request")
    structlog.contextvars.bind_contextvars(
        request_id="5f0c6b2e-8a43-4f7e-9b1a-0c2d3e4f5a6b", comune="palosco", user_id=11
    )

    def written() -> None:
        log.info("request_started", request="GET /", user_agent=USER_AGENT)

    def dropped() -> None:
        log.debug("request_started", request="GET /", user_agent=USER_AGENT)

    figures = {}
    for name, call in (("written (INFO)", written), ("dropped (DEBUG)", dropped)):
        figures[name] = min(timeit.repeat(call, number=args.calls, repeat=args.repeats)) / args.calls
        print(f"{name:16} {figures[name] * 1e6:7.1f} µs per line")
    print(f"written / dropped: {figures['written (INFO)'] / figures['dropped (DEBUG)']:.1f}x")


if __name__ == "__main__":
    main()
