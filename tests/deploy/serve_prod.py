"""deploy/serve_prod.py as a module (deploy/ is not a package: it ships as files)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "serve_prod.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("serve_prod", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


serve_prod = _load()
