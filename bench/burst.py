# ruff: noqa: S603 (runs our own serve_prod.py, py-spy and pgrep with fixed arguments, no shell)
"""A window's opening: many parents pressing "Invia Iscrizione" at once, on the production stack.

Starts `deploy/serve_prod.py` (nginx with TLS → gunicorn on the production
profile → PostgreSQL, plus the procrastinate worker) on free ports against
DATABASE_URL, with mail to a local SMTP sink (aiosmtpd) in this process.
Creates a scratch comune `benchburst` whose service has fewer places than
parents, and for each parent an account, an API token and a draft. Then:

1. baseline: `--baseline` parents submit one after another from one client;
2. burst: `--parents` parents submit through `--clients` concurrent HTTPS
   connections, as fast as the stack answers;
3. drain: the worker's jobs (receipts, and credentials mails with their PDF)
   are timed until none is left.

Prints submissions/s and p50/p95/p99 of both runs and their ratios, the
drain rate (mails/s, jobs/s), and checks the outcome in the database: every
answered submission committed once, exactly the capacity placed, the rest on
the waiting list in submission order, one receipt each. It also prints the
CPU seconds each role used during the burst (web, PostgreSQL, nginx, the
worker, this bench's own clients), from /proc. `--py-spy` records
the gunicorn workers' threads that hold the GIL during the burst (their
Python CPU, not their waits on PostgreSQL) and prints where it went.

`--history N` first fills the comune with what N families of past years
left (a credentials letter, a receipt and an audit entry each): a comune in
its second year, where a check that reads every past row shows its cost.

Cleans up only what it made: the `benchburst` comune (schema, hosts,
record), its jobs and its stored PDFs. A `benchburst` comune that already
exists was not made by this run: the bench stops instead (`--drop` removes
a leftover of an interrupted run).

    DATABASE_URL=postgres://... .venv/bin/python bench/burst.py [--parents 1000] [--clients 50]
        [--capacity 600] [--baseline 50] [--history 0] [--py-spy] [--keep] [--drop]
"""

from __future__ import annotations

import argparse
import collections
import http.client
import os
import secrets
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
os.environ["DEBUG"] = "0"  # no query log growing in memory

SLUG = "benchburst"
HOST = f"{SLUG}.localhost"
SERVICE = "POST"  # a service whose form needs no extra answers
READY_POLLS = 2400  # polled, never timed: the release step is slow on a busy machine


def setup() -> None:
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL (this benchmark writes a scratch comune schema).")
    # The API tokens made here are bound to the account by an HMAC of the
    # secret key: this process and the stack must share one (strong, for prod).
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(64))
    import django

    django.setup()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scratch_comune() -> Any:
    from superadmin.operations import comune_apply_config
    from tenants.config import config_parse
    from tenants.models import Comune
    from tenants.provisioning import platform_migrate

    if Comune.objects.filter(slug=SLUG).exists():
        sys.exit(f"A comune {SLUG!r} exists and this run did not make it: remove it with --drop first.")
    platform_migrate()
    text = (ROOT / "tenant_configs" / "palosco.yaml").read_text()
    text = text.replace("slug: palosco", f"slug: {SLUG}").replace("palosco.localhost", HOST)
    text = text.replace("name: Palosco", "name: Benchmark burst")
    return comune_apply_config(config=config_parse(text, source="bench")).comune


def families(comune: Any, *, first: int, count: int, capacity: int) -> list[tuple[str, str, str]]:
    """`count` parents with a draft each: (submit path, token, ETag)."""
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from api.mapping import etag
    from enrollment.models import Service
    from enrollment.selectors import domanda_state
    from tests.factories import (
        ApiTokenFactory,
        GuardianFactory,
        ParentFactory,
        PupilFactory,
        _fields,
        domanda_create,
    )

    items = []
    with tenant_context(comune):
        now = timezone.now()
        service = Service.objects.filter(code=SERVICE).order_by("-school_year").first()
        assert service is not None
        Service.objects.filter(pk=service.pk).update(
            capacity=capacity, opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1)
        )
        service.refresh_from_db()
        for n in range(first, first + count):
            email = f"famiglia.{n}@example.org"
            # No password: the parents use API tokens, and hashing 1,000 passwords is slow.
            account = ParentFactory.create(username=f"PAL-{700000 + n:06d}", email=email, password=None)
            (row,) = domanda_create(
                account,
                [service],
                guardian=_fields(GuardianFactory, "account", {"email": email}),
                pupil=_fields(PupilFactory, "guardian", {}),
            )
            state = domanda_state(account=account, domanda=row.domanda)
            assert state is not None
            token = ApiTokenFactory.create(account=account).key  # type: ignore[attr-defined]
            items.append((f"/api/v1/enrollments/{row.domanda}/submit/", token, etag(state)))
    return items


def history(comune: Any, *, count: int) -> None:
    """What `count` families of past years left in the comune's tables: each a
    credentials letter and a receipt (sent), and an audit entry. A new comune has
    none, and a check that reads them all costs nothing there: these rows make it
    show. (The first submission's "was the letter sent?" once read the letters;
    the account's row answers it now.) Their accounts' ids are far above the
    parents': their letters are not the burst's."""
    from django.db import connection
    from django_tenants.utils import tenant_context

    from core.models import AuditEntry, OutgoingEmail

    def mails(n: int) -> list[Any]:
        to = [f"storico.{n}@example.org"]
        letter = {"document": "enrollment.lettera_credenziali", "params": {"account_id": n}}
        sent = OutgoingEmail.Status.SENT
        return [
            OutgoingEmail(to=to, subject="Credenziali di accesso al portale", body="Gentile famiglia, " * 40,
                          attachments=[letter], purpose="credentials_letter", status=sent),
            OutgoingEmail(to=to, subject="Ricevuta iscrizione", body="Gentile famiglia, " * 60,
                          purpose="enrollment_submitted", status=sent),
        ]  # fmt: skip

    with tenant_context(comune):
        for start in range(0, count, 5000):
            ids = range(10_000_000 + start, 10_000_000 + min(start + 5000, count))
            OutgoingEmail.objects.bulk_create([m for n in ids for m in mails(n)], batch_size=1000)
            entries = [AuditEntry(action="enrollment.submitted", actor_label=f"storico {n}") for n in ids]
            AuditEntry.objects.bulk_create(entries, batch_size=1000)
        # Vacuumed, as a comune's tables are long before its window opens: else
        # autovacuum reads these rows during the burst, counted as PostgreSQL's CPU.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) core_outgoingemail, core_auditentry")


class Stack:
    """deploy/serve_prod.py on free ports, in its own process group."""

    def __init__(self, *, data_dir: Path, smtp_port: int) -> None:
        self.https_port, self.http_port, self.web_port = _free_port(), _free_port(), _free_port()
        self.log = data_dir / "stack.log"
        env = dict(os.environ)
        env.pop("DJANGO_SETTINGS_MODULE", None)
        env.update(
            SERVE_PROD_DIR=str(data_dir),
            NGINX_HTTPS_PORT=str(self.https_port),
            NGINX_HTTP_PORT=str(self.http_port),
            WEB_PORT=str(self.web_port),
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(smtp_port),
            DEBUG="0",
        )
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(ROOT / "deploy" / "serve_prod.py")],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        for _ in range(READY_POLLS):
            if self.process.poll() is not None:
                sys.exit(f"the stack stopped while starting: see {self.log}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}/readyz", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            time.sleep(0.25)
        else:
            self.stop()
            sys.exit(f"the stack never became ready: see {self.log}")

    def gunicorn_pid(self) -> int:
        command = ["pgrep", "-g", str(self.process.pid), "-f", "gunicorn"]
        out = subprocess.run(command, capture_output=True, text=True, check=False).stdout.split()
        # The master is the oldest: the lowest pid in this fresh process group.
        return min(int(p) for p in out)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def submit_all(
    items: list[tuple[str, str, str]], *, port: int, clients: int
) -> tuple[float, list[tuple[int, float]]]:
    """Each item submitted once over `clients` keep-alive HTTPS connections.

    Returns the seconds from the first request to the last answer, and (status, latency) per request.
    """
    # The site certificate names the comuni of tenant_configs/, not the scratch
    # one: the handshake and encryption are the same without the name check.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    queue = collections.deque(items)
    lock = threading.Lock()
    results: list[tuple[int, float]] = []
    barrier = threading.Barrier(clients + 1)

    def client() -> None:
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=120)
        barrier.wait()
        while True:
            with lock:
                if not queue:
                    break
                path, token, tag = queue.popleft()
            started = time.perf_counter()
            try:
                conn.request(
                    "POST",
                    path,
                    headers={
                        "Host": HOST,
                        "Authorization": f"Bearer {token}",
                        "If-Match": tag,
                        "Accept": "application/json",
                        "Content-Length": "0",
                    },
                )
                response = conn.getresponse()
                response.read()
                status = response.status
            except OSError:
                status = 0
                conn.close()
                conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=120)
            with lock:
                results.append((status, time.perf_counter() - started))
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - started, results


def summary(label: str, seconds: float, results: list[tuple[int, float]]) -> dict[str, float]:
    latencies = sorted(lat for _, lat in results)
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    statuses = collections.Counter(s for s, _ in results)
    figures = {"rate": len(results) / seconds, "p50": q[49], "p95": q[94], "p99": q[98]}
    print(
        f"{label}: {len(results)} submissions in {seconds:.1f} s = {figures['rate']:.1f}/s; "
        f"p50 {1000 * figures['p50']:.0f} ms, p95 {1000 * figures['p95']:.0f} ms, "
        f"p99 {1000 * figures['p99']:.0f} ms; statuses {dict(statuses)}"
    )
    return figures


def jobs_left() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM public.procrastinate_jobs "
            "WHERE args->>'schema_name' = %s AND status IN ('todo', 'doing')",
            [SLUG],
        )
        return int(cursor.fetchone()[0])


ROLES = {
    "gunicorn": "web (gunicorn)",
    "procrastinate": "job worker",
    "nginx": "nginx",
    "postgres": "PostgreSQL",
}


class LockWaits:
    """Samples, every LOCK_SAMPLE_S, the PostgreSQL backends waiting for a row lock.

    At a window's opening that is the service's row (enrollments_submit's
    critical section): a sample with one waiter or more is a moment the lock
    is held with a queue behind it. Its own connection, in a thread, for the
    length of the burst.
    """

    def __init__(self) -> None:
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from django.db import connections

        connection = connections.create_connection("default")
        try:
            with connection.cursor() as cursor:
                while not self._stop.is_set():
                    cursor.execute(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                    self.samples.append(int(cursor.fetchone()[0]))
                    time.sleep(LOCK_SAMPLE_S)
        finally:
            connection.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def report(self) -> None:
        if not self.samples:
            return
        queued = sum(1 for n in self.samples if n) / len(self.samples)
        print(
            f"row-lock waits: {statistics.mean(self.samples):.1f} backends waiting on average, "
            f"a queue in {queued:.0%} of {len(self.samples)} samples"
        )


LOCK_SAMPLE_S = 0.02


def cpu_by_role() -> dict[str, float]:
    """CPU seconds (user + system) used so far by each role's processes, this bench's own included.

    Read from /proc: a process that ended meanwhile (a recycled gunicorn
    worker) takes its seconds with it, so the web's share is a floor.
    """
    from tests.processes import processes

    used: dict[str, float] = collections.Counter()
    for process in processes():
        if process.pid == os.getpid():
            used["this bench (its 50 clients' TLS, the SMTP sink)"] += process.cpu_seconds
            continue
        role = next((name for key, name in ROLES.items() if key in process.command), None)
        if role is not None:
            used[role] += process.cpu_seconds
    return used


def cpu_report(before: dict[str, float], after: dict[str, float], *, submissions: int) -> None:
    spent = {role: after.get(role, 0.0) - before.get(role, 0.0) for role in after}
    total = sum(spent.values())
    print(f"CPU during the burst: {total:.1f} s in all, {1000 * total / submissions:.0f} ms per submission")
    for role, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        each = 1000 * seconds / submissions
        print(f"  {role:<48} {seconds:6.1f} s  {seconds / total:5.1%}  {each:4.0f} ms each")


def drain(smtp: Any, *, since: float, mails_before: int) -> None:
    while jobs_left():
        time.sleep(0.5)
    seconds = time.perf_counter() - since
    sent = smtp.messages[mails_before:]
    pdfs = sum(1 for m in sent for part in m.walk() if part.get_content_type() == "application/pdf")
    print(
        f"drain: {len(sent)} mails ({pdfs} PDFs attached) sent {seconds:.1f} s after the burst began "
        f"= {len(sent) / seconds:.1f} mails/s"
    )


def check(comune: Any, *, capacity: int, ok: int, history: int = 0) -> None:
    """The outcome in the database; `history` audit entries, receipts and letters were there before."""
    from django_tenants.utils import tenant_context

    from core.models import AuditEntry, OutgoingEmail
    from enrollment.models import Enrollment

    with tenant_context(comune):
        sent = list(
            Enrollment.objects.filter(status=Enrollment.Status.INVIATA).order_by("submitted_at", "pk")
        )
        placed = [e for e in sent if e.waiting_position is None]
        waiting = [e.waiting_position for e in sent if e.waiting_position is not None]
        audits = AuditEntry.objects.filter(action="enrollment.submitted").count() - history
        receipts = OutgoingEmail.objects.filter(purpose="enrollment_submitted").count() - history
        letters = OutgoingEmail.objects.filter(purpose="credentials_letter").count() - history
        problems = []
        if len(sent) != ok:
            problems.append(f"{ok} submissions answered 200 but {len(sent)} are inviata")
        if len(placed) != min(capacity, len(sent)):
            problems.append(f"{len(placed)} placed for {capacity} places")
        if sent[: len(placed)] != placed:
            problems.append("a place went to a later submission than a waiting one")
        if waiting != list(range(1, len(waiting) + 1)):
            problems.append("waiting-list positions out of submission order, repeated or with gaps")
        if audits != len(sent) or receipts != len(sent):
            problems.append(f"{audits} audit entries and {receipts} receipts for {len(sent)} submissions")
        if letters != len(sent):  # each parent's first submission: one letter each
            problems.append(f"{letters} credentials letters for {len(sent)} first submissions")
    print(
        f"check: {len(sent)} inviata, {len(placed)} placed of {capacity}, {len(waiting)} waiting; "
        + ("; ".join(problems) if problems else "none lost, none duplicated, capacity kept, in order")
    )


OURS = ("api/", "core/", "enrollment/", "identity/", "tenants/", "django_tenants/")


def py_spy_top(raw: Path, *, top: int = 12) -> None:
    """From py-spy's raw output (collapsed stacks): the share of samples under each
    function of ours (and django-tenants'), and the most self time overall."""
    own: collections.Counter[str] = collections.Counter()
    under: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        frames = stack.split(";")
        own[frames[-1]] += int(samples)
        for frame in set(frames):
            if any(f"({part}" in frame for part in OURS):
                under[frame] += int(samples)
        total += int(samples)
    if not total:
        print("py-spy: no samples")
        return
    print(f"py-spy: {total} samples of the gunicorn workers; under our functions (and django-tenants'):")
    for frame, count in under.most_common(top):
        print(f"  {100 * count / total:5.1f} %  {frame}")
    print("  most self time:")
    for frame, count in own.most_common(5):
        print(f"  {100 * count / total:5.1f} %  {frame}")


def cleanup(comune: Any) -> None:
    from django.conf import settings
    from django.db import connection

    from tenants.services import comune_drop

    connection.close()  # dropping a schema from a fresh connection is much faster
    comune_drop(comune=comune, action="comune.bench_dropped", message="bench/burst.py")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM public.procrastinate_jobs WHERE args->>'schema_name' = %s", [SLUG])
    shutil.rmtree(Path(settings.DOCUMENTS_DIR) / SLUG, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parents", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--capacity", type=int, default=600)
    parser.add_argument("--baseline", type=int, default=50, help="parents of the single-client run")
    parser.add_argument(
        "--history", type=int, default=0, help="past families' mails and audit entries already in the comune"
    )
    parser.add_argument("--py-spy", action="store_true", help="profile the gunicorn workers during the burst")
    parser.add_argument("--keep", action="store_true", help="keep the scratch comune afterwards")
    parser.add_argument("--drop", action="store_true", help="only remove a leftover scratch comune")
    args = parser.parse_args()
    setup()
    import logging

    from aiosmtpd.controller import Controller

    from tenants.models import Comune
    from tests.smtp import _Collector

    if args.drop:
        for comune in Comune.objects.filter(slug=SLUG):
            cleanup(comune)
            print(f"dropped {SLUG}")
        return
    # The directory first: a comune made and then left by a failing mkdtemp would stop the next run.
    (ROOT / ".data").mkdir(exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="bench-burst-", dir=ROOT / ".data"))
    try:
        comune = scratch_comune()
    except BaseException:
        shutil.rmtree(data_dir, ignore_errors=True)
        raise
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every connection
    collector = _Collector()
    smtp = Controller(collector, hostname="127.0.0.1", port=_free_port())
    smtp.start()
    stack = None
    try:
        started = time.perf_counter()
        baseline_items = families(comune, first=0, count=args.baseline, capacity=args.capacity)
        burst_items = families(comune, first=args.baseline, count=args.parents, capacity=args.capacity)
        history(comune, count=args.history)
        made = args.baseline + args.parents
        print(
            f"setup: {made} parents with a draft, {args.history} past families' mails and audit entries, "
            f"in {time.perf_counter() - started:.0f} s"
        )
        stack = Stack(data_dir=data_dir, smtp_port=smtp.port)
        print(f"stack ready (log {stack.log}); load average {os.getloadavg()[0]:.2f}")
        seconds, results = submit_all(baseline_items, port=stack.https_port, clients=1)
        base = summary("baseline, 1 client", seconds, results)
        answered = sum(1 for s, _ in results if s == 200)
        while jobs_left():  # the burst starts with an empty queue
            time.sleep(0.5)
        mails_before = len(collector.messages)
        spy = None
        if args.py_spy:
            raw = data_dir / "py-spy.txt"
            spy = subprocess.Popen(
                [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(stack.gunicorn_pid()),
                 "--subprocesses", "--format", "raw", "--output", str(raw), "--rate", "50", "--nonblocking",
                 "--gil"],  # the threads holding the GIL: where the Python CPU goes, not the waits
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            time.sleep(1)  # attached before the first request
        cpu_before = cpu_by_role()
        waits = LockWaits()
        burst_started = time.perf_counter()
        seconds, results = submit_all(burst_items, port=stack.https_port, clients=args.clients)
        cpu_after = cpu_by_role()
        waits.stop()
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait()
        load = os.getloadavg()[0]
        figures = summary(f"burst, {args.clients} clients", seconds, results)
        print(
            f"ratios: throughput {figures['rate'] / base['rate']:.1f}x the single client; "
            f"p95 {figures['p95'] / base['p50']:.1f}x the single client's p50; load average {load:.2f}"
        )
        cpu_report(cpu_before, cpu_after, submissions=len(results))
        waits.report()
        drain(collector, since=burst_started, mails_before=mails_before)
        check(
            comune,
            capacity=args.capacity,
            ok=answered + sum(1 for s, _ in results if s == 200),
            history=args.history,
        )
        if spy is not None:
            py_spy_top(data_dir / "py-spy.txt")
    finally:
        if stack is not None:
            stack.stop()
        smtp.stop()
        if not args.keep:
            cleanup(comune)
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
