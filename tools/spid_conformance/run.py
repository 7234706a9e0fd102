# ruff: noqa: S603 (a developer tool running our own programs with fixed arguments)
"""`make spid-test`: AgID's spid-sp-test against a real server of ours, for every comune.

Steps, all bounded in time (the whole run stays under 5 minutes):
1. a fresh database `spid_sp_test` on the same PostgreSQL as DATABASE_URL
   (or the embedded one), migrated and synced from tenant_configs/;
2. fresh SP keys in a temporary SPID_KEYS_DIR (`manage.py spid_keys`);
3. spid-sp-test's own test IdP metadata, trusted by this server only
   (SPID_TEST_IDP_METADATA);
4. `manage.py runserver` on a free port, DEBUG off;
5. for each comune that enables SPID/CIE: one spid-sp-test run per protocol
   with metadata (profile spid-sp-public / cie-sp-public, --extra),
   AuthnRequest (--authn-url) and the crafted Responses (-tr); for a comune
   that does not, a check that its SPID/CIE URLs answer 404.
Prints "executed N tests, M failed" per comune, protocol and category, and
exits non-zero if anything failed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import yaml

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
SPID_SP_TEST = ROOT / ".venv-spid" / "bin" / "spid_sp_test"
WORK = ROOT / ".data" / "spid-sp-test"
RESOLVER = Path(__file__).resolve().parent / "localhost_resolver"
DB_NAME = "spid_sp_test"
TEST_IDP = "https://localhost:8443"
PROFILES = {"spid": "spid-sp-public", "cie": "cie-sp-public"}
STEP_TIMEOUT = 150
# The whole run must end well within CI's budget; past it, the `finally`
# below still stops the server it started.
RUN_DEADLINE = 270


def log(message: str) -> None:
    print(f"[spid-test] {message}", flush=True)


def project_env(**extra: str) -> dict[str, str]:
    """The environment of a process of ours: its settings come from
    DJANGO_SETTINGS_MODULE there, never imported into this tool."""
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.dev", **extra}


# A plain `python` of ours (not manage.py, which sets its own path) finds the project here.
PROJECT_PATH = {"PYTHONPATH": f"{ROOT}:{ROOT / 'platform'}"}


def base_database_url() -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return url
    # The embedded PostgreSQL (started if needed) is the project's to find.
    where = "from config.database import database_url; print(database_url())"
    return subprocess.run(
        [str(PYTHON), "-c", where],
        env=project_env(**PROJECT_PATH),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()


def database_recreate(base_url: str, *, create: bool = True) -> str:
    parts = urlsplit(base_url)
    with psycopg.connect(urlunsplit(parts._replace(scheme="postgresql")), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        if create:
            conn.execute(f"CREATE DATABASE {DB_NAME}")
    return urlunsplit(parts._replace(path=f"/{DB_NAME}"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(PYTHON), "manage.py", *args], cwd=ROOT, env=env, check=True, timeout=STEP_TIMEOUT)


def wait_until_up(port: int, host: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the test server exited early; see .data/spid-sp-test/server.log")
        request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={"Host": host})
        try:
            with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310 (local)
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    raise SystemExit("the test server did not answer within 60 s")


def status_of(url: str, host: str) -> int:
    request = urllib.request.Request(url, headers={"Host": host})  # noqa: S310 (local http)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (local)
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def spid_sp_test(kind: str, base: str, report: Path) -> dict[str, tuple[int, int]]:
    env = {**os.environ, "PYTHONPATH": str(RESOLVER), "PYTHONWARNINGS": "ignore"}
    env.pop("DATABASE_URL", None)
    args = [
        str(SPID_SP_TEST),
        "--profile", PROFILES[kind],
        "--metadata-url", f"{base}/accesso/{kind}/metadata/",
        "--authn-url", f"{base}/accesso/{kind}/login/?idp={TEST_IDP}&next=/",
        "--extra",
        "-tr",
        "-rf", "json",
        "-o", str(report),
        "--exit-zero",
        "-d", "CRITICAL",
    ]  # fmt: skip
    subprocess.run(args, env=env, check=True, timeout=STEP_TIMEOUT, stdout=subprocess.DEVNULL)
    counts: dict[str, tuple[int, int]] = {}
    for category, classes in json.loads(report.read_text())["test"]["sp"].items():
        items = [item for checks in classes.values() for item in checks]
        failed = [item for item in items if item["result"] != "success"]
        for item in failed:
            log(f"  FAILED {category}: {item['test']} ({item.get('value', '')})")
        counts[category] = (len(items), len(failed))
    return counts


CERT_CHECK = """
import json, sys, warnings
warnings.simplefilter("ignore")
from pathlib import PosixPath
from spid_compliant_certificates.validator.validate import validate
report = validate(PosixPath(sys.argv[1]), "public").as_dict()
print(json.dumps([c for t in report["tests"] for c in t["checks"]], default=str))
"""


def certificate_check(cert: Path) -> tuple[int, int]:
    """AgID's certificate validator (spid-compliant-certificates, public sector) on one SP certificate."""
    python = SPID_SP_TEST.with_name("python")
    out = subprocess.run(
        [str(python), "-c", CERT_CHECK, str(cert)], capture_output=True, check=True, timeout=60
    ).stdout
    checks = json.loads(out)
    failed = [c for c in checks if c["result"] != "success"]
    for check in failed:
        log(f"  FAILED certificate: {check['description']} ({check.get('value')})")
    return len(checks), len(failed)


def _deadline_passed(signum: int, frame: object) -> None:
    raise SystemExit(f"spid-test: stopped after {RUN_DEADLINE} s")


def main() -> int:
    started = time.monotonic()
    signal.signal(signal.SIGALRM, _deadline_passed)
    signal.alarm(RUN_DEADLINE)
    if not SPID_SP_TEST.exists():
        raise SystemExit(".venv-spid is missing: run `make spid-test`, which creates it")
    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "keys").mkdir(parents=True)
    port = free_port()
    base_url = base_database_url()
    database_url = database_recreate(base_url)
    env = project_env(
        DATABASE_URL=database_url,
        DEBUG="false",
        SPID_DEMO_IDP="false",
        SECRET_KEY="spid-sp-test-only-" + os.urandom(16).hex(),
        SPID_KEYS_DIR=str(WORK / "keys"),
        COMUNE_URL_TEMPLATE=f"http://{{host}}:{port}",
        SPID_TEST_IDP_METADATA=str(WORK / "test-idp.xml"),
        PYTHONWARNINGS="ignore",
    )
    log(f"database {DB_NAME}: migrating and applying tenant_configs/")
    manage(env, "migrate_platform")
    manage(env, "sync_tenants")
    manage(env, "spid_keys")
    idp_metadata = subprocess.run(
        [str(SPID_SP_TEST), "--idp-metadata"], capture_output=True, check=True, timeout=60, env=env
    ).stdout
    (WORK / "test-idp.xml").write_bytes(idp_metadata)

    comuni = []
    for path in sorted((ROOT / "tenant_configs").glob("*.yaml")):
        cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
        comuni.append(
            (cfg["slug"], cfg["hosts"][0], [k for k in ("spid", "cie") if k in cfg["identity"]["backends"]])
        )
    for slug, _host, kinds in comuni:
        if kinds:
            seed = [str(PYTHON), str(Path(__file__).with_name("seed_agid_user.py")), slug]
            subprocess.run(seed, cwd=ROOT, env={**env, **PROJECT_PATH}, check=True, timeout=60)

    server_log = (WORK / "server.log").open("w")
    server = subprocess.Popen(
        [str(PYTHON), "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT, env=env, stdout=server_log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    failures = 0
    summary = []
    try:
        wait_until_up(port, comuni[0][1], server)
        for slug, host, kinds in comuni:
            base = f"http://{host}:{port}"
            for kind in ("spid", "cie"):
                if kind not in kinds:
                    codes = {
                        p: status_of(f"http://127.0.0.1:{port}/accesso/{kind}/{p}/", host)
                        for p in ("metadata", "login", "acs")
                    }
                    ok = set(codes.values()) == {404}
                    failures += 0 if ok else 1
                    verdict = "ok" if ok else "FAILED"
                    answers = sorted(set(codes.values()))
                    summary.append(f"{slug:<20} {kind:<5} not enabled: URLs answer {answers} ({verdict})")
                    continue
                log(f"{slug} {kind}: spid-sp-test --profile {PROFILES[kind]} --extra -tr")
                counts = spid_sp_test(kind, base, WORK / f"{slug}-{kind}.json")
                counts["certificate (AgID)"] = certificate_check(WORK / "keys" / slug / f"{kind}-cert.pem")
                for category, (total, failed) in counts.items():
                    failures += failed
                    summary.append(
                        f"{slug:<20} {kind:<5} {category:<22} executed {total} tests, {failed} failed"
                    )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        server_log.close()
        database_recreate(base_url, create=False)
    log(f"done in {time.monotonic() - started:.0f} s; reports in {WORK}")
    for line in summary:
        print(line)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
