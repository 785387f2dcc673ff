"""The stylesheet and the templates agree (issue 15, point 3): every class a template uses has a
rule in static/css/app.css, a button's look is decided by its modifier class, and a destructive
button (btn-danger) sits in a form that asks first (data-confirm, read by static/js/site.js).

Classes are read from the templates' `class="..."` attributes, the `cls='...'` arguments of
macros (confirm_button) and `{% block body_class %}`. Jinja tags inside an attribute are dropped
and what they wrap is kept (`row{% if e %} has-error{% endif %}` uses row and has-error); a class
built from a value (`badge-{{ order.status }}`) must be in DYNAMIC with every value it can take.
"""
from __future__ import annotations

import re
from pathlib import Path

from marketplace.catalog.models import ProductStatus
from marketplace.households.models import HouseholdStatus
from marketplace.orders.models import OrderStatus
from marketplace.sellers.models import SellerStatus
from marketplace.units.models import CampaignStatus, ParticipationStatus, UnitStatus

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
CSS = ROOT / "static" / "css" / "app.css"

# Classes no rule needs because a script (static/js) finds elements by them. Keep it short and
# say who reads each; prefer data- attributes for new hooks.
HOOKS: dict[str, str] = {}

# A class built from a value: the prefix before `{{` and every value it can take.
DYNAMIC = {
    "badge-": {s.value for s in (*OrderStatus, *ProductStatus, *SellerStatus, *UnitStatus,
                                 *CampaignStatus, *ParticipationStatus)},
    "badge-hh-": {s.value for s in HouseholdStatus},
    "flash-": {"success", "info", "warning", "error", "message"},  # flash()'s categories
    "rank-": {"1", "2", "3", "n"},  # the leaderboards' first three, then the rest
}

DYNAMIC_MARK = "\x00"


def _templates():
    for path in sorted(TEMPLATES.rglob("*.html")):
        yield path.relative_to(ROOT), path.read_text(encoding="utf-8")


def _values(text: str):
    """The class lists a template writes, as written."""
    pattern = (r"""\bclass=(?:"([^"]*)"|'([^']*)')|\bcls=(?:'([^']*)'|"([^"]*)")"""
               r"|\{%-?\s*block body_class\s*-?%\}(.*?)\{%")
    for m in re.finditer(pattern, text, re.S):
        yield next(g for g in m.groups() if g is not None)


def _tokens(value: str) -> list[str]:
    value = re.sub(r"\{\{.*?\}\}", DYNAMIC_MARK, value, flags=re.S)
    value = re.sub(r"\{%.*?%\}", " ", value, flags=re.S)
    return value.split()


def used_classes() -> dict[str, set[str]]:
    """class (or `prefix-` + DYNAMIC_MARK) -> the templates that use it."""
    used: dict[str, set[str]] = {}
    for path, text in _templates():
        for value in _values(text):
            for token in _tokens(value):
                if token != DYNAMIC_MARK:  # wholly a value ({{ cls }}): its callers are read
                    used.setdefault(token, set()).add(str(path))
    return used


def _selectors() -> list[str]:
    css = re.sub(r"/\*.*?\*/", "", CSS.read_text(encoding="utf-8"), flags=re.S)
    return [s.strip() for s in re.findall(r"([^{}]+)\{", css) if not s.strip().startswith("@")]


def css_classes() -> set[str]:
    found: set[str] = set()
    for selector in _selectors():
        found |= set(re.findall(r"\.(-?[A-Za-z_][\w-]*)", selector))
    return found


def test_the_reader_sees_classes_tags_and_values():
    assert _tokens("row{% if e %} has-error{% endif %}") == ["row", "has-error"]
    assert _tokens("badge badge-{{ order.status }}") == ["badge", "badge-" + DYNAMIC_MARK]
    assert _tokens("{{ cls }}") == [DYNAMIC_MARK]
    values = list(_values('<b class="a b"></b>{{ m(cls=\'btn btn-small\') }}'
                          '{% block body_class %}printable{% endblock %}'))
    assert values == ["a b", "btn btn-small", "printable"]
    assert {"btn", "btn-danger", "cart-line"} <= css_classes()


def test_every_class_a_template_uses_has_a_rule():
    defined = css_classes()
    missing = []
    for token, where in sorted(used_classes().items()):
        if DYNAMIC_MARK in token:
            prefix = token.split(DYNAMIC_MARK)[0]
            if not token.endswith(DYNAMIC_MARK) or token.count(DYNAMIC_MARK) > 1 \
                    or prefix not in DYNAMIC:
                missing.append(f"{token.replace(DYNAMIC_MARK, '{{…}}')} (add its prefix and "
                               f"values to DYNAMIC) in {sorted(where)}")
                continue
            missing += [f".{prefix}{v} (from {prefix}{{{{…}}}}) in {sorted(where)}"
                        for v in sorted(DYNAMIC[prefix]) if prefix + v not in defined]
        elif token not in defined and token not in HOOKS:
            missing.append(f".{token} in {sorted(where)}")
    assert not missing, "classes without a rule in static/css/app.css:\n" + "\n".join(missing)


def test_hooks_are_really_used():
    used = used_classes()
    assert not [h for h in HOOKS if h not in used], "a hook no template uses any more"


def test_a_modifier_wins_over_the_button():
    """`button.btn` outranked `.btn-secondary`, `.btn-danger`, `.btn-small`: every button looked
    primary. Button rules are one class each (pseudo-classes and a context before are fine)."""
    heavy = [s for s in _selectors() for part in s.split(",")
             if re.search(r"[A-Za-z\]]\.btn\b|\.btn[\w-]*\.btn", part.strip())]
    assert heavy == [], f"button rules that outrank a modifier: {heavy}"


def test_destructive_buttons_ask_before_posting():
    """btn-danger only on a submit button of a form with data-confirm, or in confirm_button
    (whose form always asks)."""
    wrong = []
    for path, text in _templates():
        for m in re.finditer(r"btn-danger", text):
            before = text[:m.start()]
            call = before.rfind("{{")
            if "confirm_button(" in before[call:call + 40] \
                    or re.search(r"\{%-?\s*macro confirm_button\([^%]*$", before):
                continue
            opened, closed = before.rfind("<form"), before.rfind("</form>")
            form_tag = text[opened:text.find(">", opened) + 1] if opened > closed else ""
            if "data-confirm" not in form_tag:
                line = before.count("\n") + 1
                wrong.append(f"{path}:{line}")
    assert wrong == [], f"btn-danger without a confirmation: {wrong}"
