"""The provider payload corpus lives in ../shared/fixtures/providers beside the repository (see its README)."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_FIXTURES = Path(os.environ.get("COMMSINBOX_PROVIDER_FIXTURES", ROOT.parent / "shared" / "fixtures" / "providers"))


def fixture(relative: str) -> Path:
    path = PROVIDER_FIXTURES / relative
    if not path.exists():
        raise FileNotFoundError(f"provider fixture {relative} not found under {PROVIDER_FIXTURES}; "
                                "the corpus is expected in ../shared beside the repository")
    return path


def fixtures(folder: str, pattern: str = "*") -> list[Path]:
    found = sorted((PROVIDER_FIXTURES / folder).glob(pattern))
    if not found:
        raise FileNotFoundError(f"no provider fixtures {folder}/{pattern} under {PROVIDER_FIXTURES}")
    return found
