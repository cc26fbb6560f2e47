"""The path of one write through the code: the files of ``toolkit/`` that ``toolkit.apply`` enters
while it applies a 5-row metadata plan against the sandbox, in the order first entered, and the
hops (calls from one toolkit file into another). Issue 24's closing note compares it before and
after the wings were split by concept.

    .venv/bin/python bench/apply_flow.py [ROOT]

``ROOT`` is the checkout whose ``toolkit`` is traced (this one by default): for an earlier
commit, ``git worktree add /tmp/before REV`` and pass ``/tmp/before``. No goal: a map, not a
measure of speed.
"""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType
from typing import Any


def trace(root: Path) -> tuple[list[str], int]:
    """The toolkit files apply enters (first entry order) and the hops between them."""
    sys.path.insert(0, str(root))
    import toolkit
    from toolkit.sandbox import Sandbox

    package = str(root / "toolkit") + "/"
    entered: list[str] = []
    hops = 0
    lock = threading.Lock()

    def profile(frame: FrameType, event: str, _arg: Any) -> None:
        nonlocal hops
        name = frame.f_code.co_filename
        if event != "call" or not name.startswith(package) or "/sandbox/" in name:
            return
        caller = frame.f_back.f_code.co_filename if frame.f_back is not None else None
        with lock:
            if name[len(package) :] not in entered:
                entered.append(name[len(package) :])
            hops += caller != name

    with Sandbox(seed=3, customers=30) as box:
        session = toolkit.connect("sk_test_" + "F1ow" * 6, api_base=box.url, quiet=True)
        plan = toolkit.plan_metadata(
            toolkit.load_sources(session, progress=False).head(5), set={"flow": "1"}
        )
        journal = Path(tempfile.mkdtemp()) / "flow.jsonl"
        threading.setprofile(profile)
        sys.setprofile(profile)
        try:
            toolkit.apply(plan, session, progress=False, journal=journal)
        finally:
            sys.setprofile(None)
            threading.setprofile(None)
    return entered, hops


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1])
    entered, hops = trace(root.resolve())
    print(f"files entered: {len(entered)}; hops between files: {hops}")
    print(" > ".join(entered))


if __name__ == "__main__":
    main()
