"""Invented household heads for the demo: names, ID numbers, sizes and statuses, deterministic.

Nothing here describes a real person: names are random combinations of common surnames and
given-name characters; ID numbers are built from the county's area code, a random birth date and
sequence number, and a computed check digit (python-stdnum), so that they pass validation.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from stdnum.cn import ric

from marketplace.core.validators import normalize_id_number


@dataclass(frozen=True)
class HouseholdPlan:
    code: str  # "D" + village code + two-digit sequence: stable across runs
    village_code: str
    head_name: str
    id_number: str
    size: int
    status: str
    liaison_login: str


def household_code(village_code: str, seq: int) -> str:
    return f"D{village_code}{seq:02d}"


def allocate(total: int, weights: dict[str, int]) -> dict[str, int]:
    """Split `total` over the keys in proportion to their weights (largest remainder)."""
    weight_sum = sum(weights.values())
    exact = {k: total * w / weight_sum for k, w in weights.items()}
    counts = {k: int(v) for k, v in exact.items()}
    short = total - sum(counts.values())
    for k in sorted(exact, key=lambda k: (-(exact[k] - counts[k]), k))[:short]:
        counts[k] += 1
    return counts


def make_id_number(rng: random.Random, area: str, male: bool, taken: set[str]) -> str:
    start, span = date(1948, 1, 1), (date(1998, 12, 31) - date(1948, 1, 1)).days
    while True:
        birth = start + timedelta(days=rng.randrange(span))
        seq = 2 * rng.randrange(5, 499) + (1 if male else 0)  # odd: male, even: female
        body = f"{area}{birth:%Y%m%d}{seq:03d}"
        number = body + ric.calc_check_digit(body + "0")  # the last character is a placeholder
        if number not in taken and normalize_id_number(number) == number:
            taken.add(number)
            return number


def make_name(rng: random.Random, county: str, male: bool, names: dict) -> str:
    if county == names.get("yi_county"):
        return rng.choice(names["yi_family"]) + rng.choice(names["yi_given"])
    pool = names["dong_surnames"] if county == names.get("dong_county") else names["surnames"]
    surname = rng.choice(pool)
    given_pool = names["male_given"] if male else names["female_given"]
    length = 1 if rng.random() < 0.3 else 2
    return surname + "".join(rng.sample(given_pool, length))


def plan_households(village_codes: list[str], spec: dict) -> list[HouseholdPlan]:
    """The demo households for these villages, as described by households.toml."""
    rng = random.Random(spec.get("random_seed", 1))
    names = spec["names"]
    weights = {code: int(spec.get("village_weights", {}).get(code, 1)) for code in village_codes}
    counts = allocate(int(spec["total"]), weights)
    statuses = list(spec["status_weights"])
    status_w = [spec["status_weights"][s] for s in statuses]
    sizes = [int(k) for k in spec["size_weights"]]
    size_w = list(spec["size_weights"].values())
    female_share = spec["names"].get("female_percent", 25) / 100
    taken: set[str] = set()
    plans = []
    for village in village_codes:
        county = village[:6]
        liaison = spec["liaisons"].get(county)
        if liaison is None:
            raise ValueError(f"households.toml: no liaison for county {county}")
        for seq in range(1, counts[village] + 1):
            male = rng.random() >= female_share
            plans.append(HouseholdPlan(
                code=household_code(village, seq), village_code=village,
                head_name=make_name(rng, county, male, names),
                id_number=make_id_number(rng, county, male, taken),
                size=rng.choices(sizes, size_w)[0], status=rng.choices(statuses, status_w)[0],
                liaison_login=liaison))
    return plans
