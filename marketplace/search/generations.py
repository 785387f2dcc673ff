"""Generations: the live index under a search root (named by the CURRENT file), a new one built
beside it and swapped in atomically, and the outbox watermark each generation has applied."""
from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from pathlib import Path

CURRENT = "CURRENT"  # file in the search root naming the live generation directory
WATERMARK = "applied.json"  # in a generation directory: the last outbox id applied to it


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


def read_watermark(directory: Path) -> int:
    try:
        return int(json.loads((Path(directory) / WATERMARK).read_text())["outbox_id"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return 0


def write_watermark(directory: Path, outbox_id: int) -> None:
    path = Path(directory) / WATERMARK
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"outbox_id": int(outbox_id)}))
    os.replace(tmp, path)
