"""Where the tests find things: the repository, this folder (the helpers and peers the tests start, the goldens)
and the real Aria recordings of ../shared (absent there: the tests that need them skip, saying so)."""

from __future__ import annotations

from pathlib import Path

HELPERS = Path(__file__).resolve().parent  # test/
ROOT = HELPERS.parent
ARIA_DATA = ROOT.parent / "shared" / "data" / "aria"
