"""Validating 1,000 comuni's YAML files, each with services defined in full.

Writes N synthetic `tenant_configs`-like files (each with several services of
30 questions, a ranking and ISEE-band fees) to a temporary folder, then times
`tenants.config.config_load_files` on them, the same call as
`sync_tenants --check`. The baseline is the same files with the services'
definitions left out (the catalogue as it was before the questions moved to
the YAML), timed in the same run; the ratio is the definitions' cost. A
figure without the process pool (one process) shows what the pool
gains, and a last one validates copies of the two demo comuni's real files (Palosco,
Romano: 4–5 services, a CRE of 5 questions), the size of a comune today.
No database is needed.

    .venv/bin/python bench/config_validate.py [--count 1000] [--services 3] [--repeat 3]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

print = functools.partial(print, flush=True)
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]

from tenants import config  # noqa: E402
from tenants.config import config_load_files  # noqa: E402

QUESTIONS = 30
TYPES = ["text", "textarea", "boolean", "choice", "choices", "date", "number", "email", "phone", "file"]


def _questions() -> list[dict[str, Any]]:
    questions: list[dict[str, Any]] = [
        {"id": "isee", "label": "Valore ISEE (euro)", "type": "number", "min": 0}
    ]
    for i in range(1, QUESTIONS):
        kind = TYPES[i % len(TYPES)]
        q: dict[str, Any] = {"id": f"q{i}", "label": f"Domanda numero {i}", "type": kind, "help": "Aiuto."}
        if kind in ("choice", "choices"):
            q["options"] = [f"Opzione {n}" for n in range(1, 6)]
        if kind == "number":
            q.update(min=0, max=100)
        if kind == "file":
            q["required_if"] = {"question": "q2", "equals": True}
        elif i % 4 == 0:
            q["required"] = True
        questions.append(q)
    return questions


def _definition() -> dict[str, Any]:
    return {
        "schools": ["infanzia", "primaria"],
        "questions": _questions(),
        "documents": ["Certificato medico", "Documento d'identità"],
        "ranking": {
            "criteria": [
                {"id": "residenti", "label": "Residenti", "points": 10, "source": "residency"},
                {"id": "fratelli", "label": "Fratelli", "points": 3, "source": "siblings"},
                {"id": "lavoro", "label": "Lavoro", "points": 5, "question": "q2", "equals": True},
                {"id": "scelta", "label": "Scelta", "points": 2, "question": "q3", "equals": "Opzione 1"},
            ],
            "tie_break": "submitted_at",
        },
        "fees": {
            "kind": "isee_bands",
            "isee_question": "isee",
            "bands": [
                {"up_to": 8000, "amount": "120.00"},
                {"up_to": 20000, "amount": "200.00"},
                {"amount": "300.00"},
            ],
            "sibling_discount_percent": 20,
        },
    }


def _comune(number: int, *, services: int, defined: bool) -> dict[str, Any]:
    slug = f"bench{number:04d}"
    return {
        "slug": slug,
        "name": f"Comune Bench {number}",
        "province": "Bergamo",
        "hosts": [f"{slug}.localhost"],
        "identity": {"backends": ["credentials"]},
        "services": [
            {
                "code": f"S{s}",
                "name": f"SERVIZIO {s}",
                "school_year": "2025/2026",
                "opens_at": "2025-05-05T09:00:00",
                "closes_at": "2027-06-30T23:59:59",
                "capacity": 60,
                **(_definition() if defined else {}),
            }
            for s in range(1, services + 1)
        ],
    }


def _write(folder: Path, *, count: int, services: int, defined: bool) -> list[Path]:
    folder.mkdir()
    paths = []
    for number in range(1, count + 1):
        path = folder / f"bench{number:04d}.yaml"
        text = yaml.safe_dump(_comune(number, services=services, defined=defined), allow_unicode=True)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def _write_real(folder: Path, *, count: int) -> list[Path]:
    """`count` copies of the demo comuni's own files (tenant_configs/), each under its own slug and host."""
    folder.mkdir()
    sources = sorted((ROOT / "tenant_configs").glob("*.yaml"))
    paths = []
    for number in range(1, count + 1):
        data = yaml.safe_load(sources[number % len(sources)].read_text(encoding="utf-8"))
        slug = f"real{number:04d}"
        data.update(slug=slug, hosts=[f"{slug}.localhost"])
        path = folder / f"{slug}.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        paths.append(path)
    return paths


def _time(paths: list[Path], repeat: int, *, one_process: bool = False) -> tuple[float, float]:
    """Median wall-clock and CPU seconds (the CPU time shows a busy machine's share; it is
    this process's only: the workers' is not in it). `one_process` is the command as it was
    before it parsed many files on every core, the parallel figure's baseline."""
    walls, cpus = [], []
    parallel_from = config.PARALLEL_MIN_FILES
    if one_process:
        config.PARALLEL_MIN_FILES = len(paths) + 1
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        loaded = config_load_files(paths)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        assert len(loaded) == len(paths)
    config.PARALLEL_MIN_FILES = parallel_from
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--services", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        defined = _write(Path(tmp) / "defined", count=args.count, services=args.services, defined=True)
        plain = _write(Path(tmp) / "plain", count=args.count, services=args.services, defined=False)
        size = sum(p.stat().st_size for p in defined) / len(defined)
        print(
            f"{args.count} files, {args.services} services each, {QUESTIONS} questions per service "
            f"(~{size / 1024:.0f} KiB per file); median of {args.repeat} runs"
        )
        real = _write_real(Path(tmp) / "real", count=args.count)
        baseline, baseline_cpu = _time(plain, args.repeat)
        serial, serial_cpu = _time(defined, args.repeat, one_process=True)
        full, full_cpu = _time(defined, args.repeat)
        demo, demo_cpu = _time(real, args.repeat)
    for label, wall, cpu in (
        ("baseline (services without definitions)", baseline, baseline_cpu),
        ("with definitions, one process", serial, serial_cpu),
        ("with definitions", full, full_cpu),
        ("the demo comuni's own files", demo, demo_cpu),
    ):
        print(f"{label:40} {wall:6.2f} s wall, {cpu:6.2f} s CPU ({wall / args.count * 1000:.2f} ms/file)")
    print(f"ratio: {full / baseline:.1f}x wall the baseline; every core vs one process: {full / serial:.2f}x")


if __name__ == "__main__":
    main()
