"""Generations: the live index under a search root (named by the CURRENT file), a new one built
beside it and swapped in atomically, and what of the outbox each generation has applied (its
watermark and the gaps below it)."""
from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

CURRENT = "CURRENT"  # file in the search root naming the live generation directory
WATERMARK = "applied.json"  # in a generation directory: what of the outbox it has applied


# ---- generations: the live index and its replacement --------------------------------------------

def live_directory(root: Path) -> Path | None:
    """The live generation under the search root, or None when there is none."""
    try:
        name = (Path(root) / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return Path(root) / name if name else None


def new_generation(root: Path) -> Path:
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = root / f"gen-{stamp}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    path.mkdir()
    return path


def swap_in(root: Path, generation: Path, *, keep: int = 1) -> None:
    """Make `generation` the live index atomically (rename of the pointer file); readers pick it
    up at their next query. Older generations beyond `keep` are removed."""
    root = Path(root)
    tmp = root / f"{CURRENT}.{os.getpid()}.tmp"
    tmp.write_text(generation.name, encoding="utf-8")
    os.replace(tmp, root / CURRENT)
    old = sorted((p for p in root.glob("gen-*") if p.is_dir() and p != generation),
                 key=lambda p: p.stat().st_mtime)
    for path in old[:max(0, len(old) - keep)]:
        shutil.rmtree(path, ignore_errors=True)


@dataclass(frozen=True)
class Applied:
    """What a generation has applied: every outbox row up to `outbox_id` except the `gaps`, ids
    below it that were not visible when the rows around them were read (a transaction that took
    its id earlier and committed later, on PostgreSQL), each with the unix time after which it
    is given up (a rolled-back transaction's id never shows)."""
    outbox_id: int = 0
    gaps: dict[int, float] = field(default_factory=dict)

    def open_gaps(self, now: float) -> list[int]:
        return sorted(g for g, until in self.gaps.items() if until > now)


def read_applied(directory: Path) -> Applied:
    try:
        data = json.loads((Path(directory) / WATERMARK).read_text())
        gaps = {int(g): float(until) for g, until in data.get("gaps") or []}
        return Applied(int(data["outbox_id"]), gaps)
    except (FileNotFoundError, ValueError, KeyError, TypeError, AttributeError):
        return Applied()


def write_applied(directory: Path, applied: Applied) -> None:
    path = Path(directory) / WATERMARK
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"outbox_id": int(applied.outbox_id),
                               "gaps": sorted([g, until] for g, until in applied.gaps.items())}))
    os.replace(tmp, path)


def read_watermark(directory: Path) -> int:
    return read_applied(directory).outbox_id


def write_watermark(directory: Path, outbox_id: int) -> None:
    write_applied(directory, Applied(int(outbox_id)))
