# ruff: noqa: S603, S607 (runs gunicorn and wrk with fixed arguments, no shell)
"""The portal home under gunicorn (production profile) with many comuni.

Two gunicorn instances as `deploy/gunicorn.conf.py` configures them (workers,
threads, preload, max_requests), on the production profile: the real one, and
a control whose comune middleware skips the Host lookup
(bench/fixed_tenant.py). wrk (Debian's; `make bench-deps`) drives 50
connections at the home; each scenario runs in every round, interleaved, and
the figures are medians over the rounds:

- 2 comuni: random requests over the two demo comuni's hosts;
- all comuni: random requests over every comune's host (--count synthetic
  comuni are created first, unless --reuse);
- one comune: Palosco's home only, through the Host lookup;
- no tenant resolution: the control, the same comune's home without the lookup.

The tenancy overhead compares the last two: the same page, with and without
the lookup.

The private resident memory of the gunicorn workers and of the PostgreSQL
backends serving them is read from /proc before and after the rounds; then
this process requests every comune's home --sweeps times on one kept
connection, as one worker thread that touched every schema, and reports its
own and its backend's growth. The comuni this run created are dropped at the end
(unless --keep); others are left alone.

    DATABASE_URL=postgres://… .venv/bin/python bench/scale.py --reuse
"""

from __future__ import annotations

import argparse
import functools
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

print = functools.partial(print, flush=True)
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
# gunicorn gets the environment as it was given, with the production defaults.
GIVEN_ENV = dict(os.environ)
# The in-process sweep below behaves as a gunicorn worker: no debug, a kept connection.
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("CONN_MAX_AGE", "600")
BIN = Path(sys.executable).parent

WRK_SCRIPT = """
local hosts = {}
for line in io.lines("%(hosts)s") do hosts[#hosts + 1] = line end
setup = function(thread) thread:set("id", math.random(1, 1000000)) end
init = function(args) math.randomseed(id) end
request = function()
  local host = hosts[math.random(#hosts)]
  return wrk.format("GET", "/", {["Host"] = host, ["X-Forwarded-Proto"] = "https"})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.status + e.connect + e.read + e.write + e.timeout))
end
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="synthetic comuni to create")
    parser.add_argument("--reuse", action="store_true", help="create none: use the comuni already there")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument(
        "--warmup",
        type=int,
        default=60,
        help="seconds over every comune first, so the rounds are not first visits",
    )
    parser.add_argument("--sweeps", type=int, default=2, help="in-process passes over every home")
    parser.add_argument("--keep", action="store_true", help="keep the synthetic comuni")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL to the PostgreSQL to benchmark against.")
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: make bench-deps")

    import django

    django.setup()
    from django.db import connection

    from bench.onboarding import created_drop
    from superadmin.operations import demo_comuni_create
    from tenants.models import Domain
    from tenants.provisioning import template_schema_migrate

    created: list[Any] = []
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    servers: list[subprocess.Popen[bytes]] = []
    try:
        if not args.reuse:
            template_schema_migrate()
            started = time.perf_counter()
            created = [r.comune for r in demo_comuni_create(count=args.count)]
            print(f"created {len(created)} synthetic comuni in {time.perf_counter() - started:.0f} s")
        hosts = list(
            Domain.objects.exclude(tenant__schema_name="public")
            .order_by("domain")
            .values_list("domain", flat=True)
        )
        two = ["palosco.localhost", "romanodilombardia.localhost"]
        connection.close()
        (work / "all.txt").write_text("\n".join(hosts) + "\n")
        (work / "two.txt").write_text("\n".join(two) + "\n")
        (work / "fixed.txt").write_text(two[0] + "\n")
        secret = secrets.token_urlsafe(64)
        # The production storage renders no page without its manifest.
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
            cwd=ROOT,
            check=True,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.prod", "SECRET_KEY": secret},
        )
        real = gunicorn(8761, "config.settings.prod", secret, servers)
        gunicorn(8762, "fixed_tenant_settings", secret, servers)
        for port in (8761, 8762):
            wait_ready(port, two[0])
        print(
            f"comuni: {len(hosts)}; CPUs: {os.cpu_count()}; "
            f"gunicorn workers: {workers_settled(real)} per instance"
        )
        print(f"load average before: {load()}")

        scenarios = {
            "2 comuni": (8761, "two.txt"),
            f"{len(hosts)} comuni": (8761, "all.txt"),
            # The control serves one comune's home: the tenancy figure compares it
            # with that same home through the Host lookup (not with the two
            # comuni's mix, whose other home costs more to render).
            f"{two[0]}": (8761, "fixed.txt"),
            "no tenant resolution": (8762, "fixed.txt"),
        }
        for port, hosts_file in scenarios.values():  # warm up: every worker, every fragment
            seconds = args.warmup if hosts_file == "all.txt" else 3
            wrk(work, port, hosts_file, seconds=seconds, connections=args.connections)
        before = memory(real)
        results: dict[str, list[tuple[float, ...]]] = {name: [] for name in scenarios}
        for _ in range(args.rounds):
            for name, (port, hosts_file) in scenarios.items():
                results[name].append(
                    wrk(work, port, hosts_file, seconds=args.seconds, connections=args.connections)
                )
        print(
            f"{args.rounds} rounds x {args.seconds} s per scenario, "
            f"{args.connections} connections, interleaved"
        )
        print(f"  {'scenario':<22} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} errors")
        median: dict[str, tuple[float, ...]] = {}
        for name, runs in results.items():
            median[name] = tuple(statistics.median(r[i] for r in runs) for i in range(5))
            rps, p50, p95, p99, errors = median[name]
            print(f"  {name:<22} {rps:7.0f} {p50:7.1f} {p95:7.1f} {p99:7.1f} {errors:.0f}")
        many = median[f"{len(hosts)} comuni"]
        print(f"p95 {len(hosts)} comuni / 2 comuni: {many[2] / median['2 comuni'][2]:.2f}")
        fixed, looked_up = median["no tenant resolution"], median[two[0]]
        print(
            f"tenancy overhead on {two[0]}: {1 - looked_up[0] / fixed[0]:.1%} of the control's req/s "
            f"(p50 {looked_up[1] / fixed[1] - 1:+.1%}, p95 {looked_up[2] / fixed[2] - 1:+.1%})"
        )

        after = memory(real)
        print("resident private memory (RssAnon), MB, before / after the rounds over every comune:")
        for what in ("gunicorn workers", "postgres backends"):
            b, a = before[what], after[what]
            print(
                f"  {what:<18} max {max(b, default=0):6.1f} / {max(a, default=0):6.1f}  "
                f"(n={len(a)}, mean after {statistics.mean(a) if a else 0:.1f})"
            )
        process, backend = sweep(hosts, passes=args.sweeps)
        print(f"one process serving each of the {len(hosts)} homes {args.sweeps}x, on one connection, MB:")
        print(f"  the process         {process[0]:6.1f} -> {process[1]:6.1f}")
        print(f"  its postgres backend {backend[0]:5.1f} -> {backend[1]:6.1f}")
        print(f"load average after: {load()}")
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(work, ignore_errors=True)
        if created and not args.keep:
            print(f"dropped the {created_drop(created)} synthetic comuni this run created")


def sweep(hosts: list[str], *, passes: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """Every home requested in this process, on one kept connection: what one worker
    and its PostgreSQL backend grow to after touching every schema."""
    from django.db import connection
    from django.test import Client

    client = Client()

    def backend() -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return _rss_anon_mb(cursor.fetchone()[0]) or 0.0

    client.get("/", HTTP_HOST=hosts[0])
    process_before, backend_before = _rss_anon_mb(os.getpid()) or 0.0, backend()
    for _ in range(passes):
        for host in hosts:
            if client.get("/", HTTP_HOST=host).status_code != 200:
                sys.exit(f"GET http://{host}/ did not answer 200")
    return (process_before, _rss_anon_mb(os.getpid()) or 0.0), (backend_before, backend())


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def gunicorn(
    port: int, settings: str, secret: str, servers: list[subprocess.Popen[bytes]]
) -> subprocess.Popen[bytes]:
    env = {
        **GIVEN_ENV,
        "DJANGO_SETTINGS_MODULE": settings,
        "SECRET_KEY": secret,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        # The project first: bench/payments.py must not shadow the payments app.
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "platform"), str(ROOT / "bench")]),
        "BENCH_FIXED_SCHEMA": "palosco",
    }
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-c",
            "deploy/gunicorn.conf.py",  # as deployed: no access log of gunicorn's (django-structlog's line)
            "config.wsgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    servers.append(server)
    return server


def wait_ready(port: int, host: str) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/", headers={"Host": host, "X-Forwarded-Proto": "https"}
    )
    for _ in range(120):
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (our own server)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    sys.exit(f"gunicorn on port {port} did not answer 200")


def wrk(work: Path, port: int, hosts_file: str, *, seconds: int, connections: int) -> tuple[float, ...]:
    script = work / f"{hosts_file}.lua"
    script.write_text(WRK_SCRIPT % {"hosts": work / hosts_file})
    result = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT"))
    requests, duration_us, p50, p95, p99, errors = map(int, line.split()[1:])
    return requests / (duration_us / 1e6), p50 / 1000, p95 / 1000, p99 / 1000, float(errors)


def workers(server: subprocess.Popen[bytes]) -> list[int]:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def workers_settled(server: subprocess.Popen[bytes]) -> int:
    """How many workers the master runs, once it has forked them all (the first may answer first)."""
    seen = -1
    while (now := len(workers(server))) != seen:
        seen = now
        time.sleep(1)
    return seen


def _rss_anon_mb(pid: int) -> float | None:
    # Private memory only: shared buffers a backend touched are not its own.
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def memory(server: subprocess.Popen[bytes]) -> dict[str, list[float]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
        backends = [row[0] for row in cursor.fetchall()]
    connection.close()
    found = {
        "gunicorn workers": [_rss_anon_mb(pid) for pid in workers(server)],
        "postgres backends": [_rss_anon_mb(pid) for pid in backends],
    }
    return {k: [v for v in values if v is not None] for k, values in found.items()}


if __name__ == "__main__":
    main()
