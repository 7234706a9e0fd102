# ruff: noqa: S603, S607 (runs our own programs and openssl/nginx with fixed arguments, no shell)
"""`make serve-prod`: the production stack on this machine.

nginx (TLS on https://*.localhost:8443, `deploy/nginx.conf`) → gunicorn
(`deploy/gunicorn.conf.py`, profile `config.settings.prod`, several workers)
→ PostgreSQL (`DATABASE_URL`, or the embedded one of `make run`), plus the
procrastinate worker. The release step runs first. compose.yaml, the systemd
units and deploy/k8s/ run the same commands (WEB, WORKER, RELEASE below;
tests/deploy/test_files.py keeps them equal).

Made once under SERVE_PROD_DIR (default `.data/`), never in the repository:
a local certificate authority and the site certificate it signs (`tls/`),
the SECRET_KEY (`secret_key`), nginx's pid, temporary files and rendered
configuration (`nginx/`). Environment (all optional): DATABASE_URL,
SECRET_KEY, CACHE_URL, NGINX_HTTPS_PORT (8443), NGINX_HTTP_PORT (8080),
WEB_PORT (gunicorn on 127.0.0.1, 8001), WEB_CONCURRENCY, WORKER_PROCESSES
(procrastinate workers, one per core), EMAIL_HOST (unset:
mail goes to `.data/mail/` and the console, as with `make run`).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path
from string import Template

import yaml

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
WEB = ["gunicorn", "-c", "deploy/gunicorn.conf.py", "config.wsgi:application"]
WORKER = ["python", "manage.py", "procrastinate", "worker"]
RELEASE = [
    ["python", "manage.py", "migrate_platform"],
    ["python", "manage.py", "sync_tenants"],
    ["python", "manage.py", "spid_keys"],
]
# Built into the image (Dockerfile); here before gunicorn starts, because the
# production static storage refuses to render a page without its manifest.
COLLECTSTATIC = ["python", "manage.py", "collectstatic", "--noinput", "--verbosity", "0"]
NGINX = "/usr/sbin/nginx"


def _local(command: list[str]) -> list[str]:
    """The command with this virtual environment's interpreter and scripts."""
    if command[0] == "python":
        return [PYTHON, *command[1:]]
    return [str(Path(PYTHON).parent / command[0]), *command[1:]]


def comune_hosts() -> list[str]:
    hosts: list[str] = []
    for path in sorted((ROOT / "tenant_configs").glob("*.yaml")):
        hosts += yaml.safe_load(path.read_text(encoding="utf-8")).get("hosts", [])
    return hosts


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def tls_ensure(tls_dir: Path, *, base_domain: str, hosts: list[str]) -> Path:
    """A local CA (made once: trust `ca.crt` once) and a site certificate it signs.

    OpenSSL, Python and curl refuse a wildcard directly under a one-label
    domain (`*.localhost`), so each comune host is also named; the site
    certificate is signed again when tenant_configs/ gains a host.
    """
    tls_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    ca_key, ca_crt = tls_dir / "ca.key", tls_dir / "ca.crt"
    if not ca_crt.exists():
        _openssl(
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
            "-keyout", str(ca_key), "-out", str(ca_crt),
            "-subj", "/CN=Iscrizioni scolastiche local CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        )  # fmt: skip
    names = sorted({base_domain, f"*.{base_domain}", *hosts})
    wanted = "\n".join(names)
    site_crt, site_key, site_names = tls_dir / "site.crt", tls_dir / "site.key", tls_dir / "site.names"
    if site_crt.exists() and site_names.exists() and site_names.read_text() == wanted:
        return tls_dir
    extensions = tls_dir / "site.ext"
    extensions.write_text(
        "subjectAltName=" + ",".join(f"DNS:{n}" for n in names) + "\n"
        "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
    )
    csr = tls_dir / "site.csr"
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(site_key), "-out", str(csr),
        "-subj", f"/CN=*.{base_domain}",
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key),
        "-set_serial", str(secrets.randbits(63)), "-days", "825",
        "-out", str(site_crt), "-extfile", str(extensions),
    )  # fmt: skip
    csr.unlink()
    site_names.write_text(wanted)
    return tls_dir


def secret_key_ensure(path: Path) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(64))
    return path.read_text().strip()


def _render(template: Path, target: Path, values: dict[str, str]) -> None:
    # Only our names are replaced, like the nginx image's envsubst step.
    target.write_text(Template(template.read_text()).safe_substitute(values))


def nginx_configure(nginx_dir: Path, values: dict[str, str]) -> Path:
    for tmp in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (nginx_dir / "tmp" / tmp).mkdir(parents=True, exist_ok=True)
    values = {**values, "NGINX_DIR": str(nginx_dir)}
    _render(ROOT / "deploy" / "nginx.conf", nginx_dir / "site.conf", values)
    main = nginx_dir / "nginx.conf"
    _render(ROOT / "deploy" / "nginx-main.conf", main, values)
    subprocess.run([NGINX, "-t", "-q", "-p", str(nginx_dir), "-c", str(main), "-e", "stderr"], check=True)
    return main


def stack_environment(data_dir: Path, *, https_port: str) -> dict[str, str]:
    environment = dict(os.environ)
    environment["DJANGO_SETTINGS_MODULE"] = "config.settings.prod"
    if not environment.get("DATABASE_URL", "").strip():
        sys.path.insert(0, str(ROOT / "platform"))
        from config.database import database_url

        environment["DATABASE_URL"] = database_url()
    environment.setdefault("SECRET_KEY", secret_key_ensure(data_dir / "secret_key"))
    environment.setdefault("BASE_DOMAIN", "localhost")
    environment.setdefault("TRUSTED_PROXIES", "127.0.0.1")
    port = "" if https_port == "443" else f":{https_port}"
    environment.setdefault("COMUNE_URL_TEMPLATE", "https://{host}" + port)
    if not environment.get("EMAIL_HOST"):
        environment.setdefault("EMAIL_BACKEND", "core.mail.OutboxAndConsoleBackend")
    return environment


def worker_processes() -> int:
    """How many procrastinate workers to start (WORKER_PROCESSES, default one per core).

    A worker runs its WORKER_CONCURRENCY jobs as threads of one process, so
    the PDFs it renders (mostly Python in WeasyPrint) share one core and one
    GIL: after a window's opening one process drained the jobs on one core
    of two, each PDF taking several times its CPU time (300-450 ms against
    40-70 ms per page in bench/pdf.py). Compose and Kubernetes scale the
    worker role by replicas instead.
    """
    return max(1, int(os.environ.get("WORKER_PROCESSES", "") or os.cpu_count() or 1))


def worker_nice() -> int:
    """The workers' niceness (WORKER_NICE, default 10): on shared cores the web answers first.

    At a window's opening the jobs of the first submissions reach the worker
    while the burst goes on, and its PDFs took a core from the web processes
    that PostgreSQL and nginx share (bench/burst.py). The jobs are background
    work: they wait for idle CPU, and still drain the moment the burst ends.
    The systemd unit sets the same Nice=; compose gives the worker the lowest
    CPU weight (cpu_shares: 2); Kubernetes runs it in pods of its own.
    """
    return int(os.environ.get("WORKER_NICE", "") or 10)


def worker_sched_idle() -> bool:
    """Whether the workers run in the kernel's idle class (WORKER_SCHED_IDLE, default 1; 0 for nice only).

    Nice 10 alone still left the worker 27 % of the CPU during a burst
    (bench/burst.py): its eight job threads each weigh 110 against a web
    thread's 1,024, and they took every moment the web spent waiting for
    PostgreSQL or the service lock. SCHED_IDLE runs them only on a core that
    nothing else wants. A job that holds a row lock the web waits for still
    runs: the waiting web leaves the core idle. The systemd unit sets the
    same (CPUSchedulingPolicy=idle).
    """
    return (os.environ.get("WORKER_SCHED_IDLE", "") or "1") != "0"


def _lower_priority() -> None:
    os.nice(worker_nice())
    if worker_sched_idle():
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def main() -> int:
    data_dir = Path(os.environ.get("SERVE_PROD_DIR", ROOT / ".data")).resolve()
    https_port = os.environ.get("NGINX_HTTPS_PORT", "8443")
    http_port = os.environ.get("NGINX_HTTP_PORT", "8080")
    web_port = os.environ.get("WEB_PORT", "8001")
    environment = stack_environment(data_dir, https_port=https_port)
    environment["GUNICORN_BIND"] = f"127.0.0.1:{web_port}"
    base_domain = environment["BASE_DOMAIN"]
    hosts = comune_hosts()
    tls_dir = tls_ensure(data_dir / "tls", base_domain=base_domain, hosts=hosts)
    nginx_main = nginx_configure(
        data_dir / "nginx",
        {
            "BASE_DOMAIN": base_domain,
            "NGINX_HTTP_PORT": http_port,
            "NGINX_HTTPS_PORT": https_port,
            "WEB_UPSTREAM": f"127.0.0.1:{web_port}",
            "TLS_CERT": str(tls_dir / "site.crt"),
            "TLS_KEY": str(tls_dir / "site.key"),
        },
    )
    for step in [*RELEASE, COLLECTSTATIC]:
        subprocess.run(_local(step), cwd=ROOT, env=environment, check=True)

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    nginx = [NGINX, "-p", str(nginx_main.parent), "-c", str(nginx_main), "-e", "stderr"]
    children = [
        subprocess.Popen(_local(WEB), cwd=ROOT, env=environment),
        *(
            subprocess.Popen(_local(WORKER), cwd=ROOT, env=environment, preexec_fn=_lower_priority)
            for _ in range(worker_processes())
        ),
        subprocess.Popen(nginx, cwd=ROOT, env=environment),
    ]
    suffix = "" if https_port == "443" else f":{https_port}"
    print("\nProduction stack (config.settings.prod) behind nginx, TLS by the local CA", flush=True)
    print(f"  trust once: {tls_dir / 'ca.crt'}  (e.g. curl --cacert)", flush=True)
    for host in [*hosts, base_domain]:
        print(f"  https://{host}{suffix}/", flush=True)
    print(f"  operators' console: https://{base_domain}{suffix}/admin/", flush=True)
    print(f"  readiness (gunicorn directly): http://127.0.0.1:{web_port}/readyz\n", flush=True)
    try:
        # The stack is whole or not at all: the first child to end stops the rest.
        os.wait()
        return 1
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


if __name__ == "__main__":
    sys.exit(main())
