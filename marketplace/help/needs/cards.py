"""What a micro-wish card (微心愿卡) and a village wall sheet show, and their QR codes.

A card is printed on A6 and hung on the village wall or handed out; its QR code opens the wish's
phone page (/wishes/<id>), where a donor claims it. The card shows the wish, the person it is
for, the household's masked name and its village, the amount, the expiry: never the head's full
name or any code. QR codes are segno's inline SVG (no picture file, nothing the
Content-Security-Policy has to allow).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import segno
from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from marketplace.help.needs.history import remaining_fen
from marketplace.help.needs.models import NEED_STATUS_LABELS, Need, NeedKind, NeedStatus

# the states whose phone page anyone may open (a card once printed keeps working: a claimed or
# fulfilled wish says so); pending, sent-back, withdrawn and removed wishes answer 404
PUBLIC_STATES = frozenset({NeedStatus.open, NeedStatus.claimed, NeedStatus.fulfilled,
                           NeedStatus.expired})
# medium error correction: a card on a wall gets creased and faded; the URL stays short enough
# for a small code (version 3 or 4 for an ordinary host name)
QR_ERROR = "m"
QR_BORDER = 2  # quiet zone in modules; the card's white margin adds to it


def wish_url(need_id: int) -> str:
    """The absolute address of a wish's phone page: what its QR code encodes (needs a request
    or SERVER_NAME for the host)."""
    return url_for("wishes.wish", need_id=need_id, _external=True)


def qr_code(text: str) -> segno.QRCode:
    """The QR code of `text` (never a Micro QR: phones' camera apps do not read those)."""
    return segno.make_qr(text, error=QR_ERROR, boost_error=False)


def qr_svg(text: str, label: str) -> Markup:
    """`text` as an inline SVG QR code sized by CSS (viewBox only), with `label` as its
    accessible name."""
    svg = qr_code(text).svg_inline(omitsize=True, border=QR_BORDER, svgclass="qr-code",
                                   lineclass=None, light="#fff", dark="#000")
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1))


@dataclass(frozen=True)
class WishCard:
    id: int
    title: str
    beneficiary: str  # the person it is for: 孙女, 8岁
    description: str
    household: str  # the head's masked name (张*明)
    village: str  # county and below: 洞口县月溪镇洪溪村
    amount_fen: int | None
    remaining_fen: int | None  # what is still to claim of the amount
    expires_on: date
    status: NeedStatus
    url: str  # the phone page, absolute
    qr: Markup

    @property
    def status_label(self) -> str:
        return NEED_STATUS_LABELS[self.status]

    @property
    def claimable(self) -> bool:
        return self.status == NeedStatus.open


def card(need: Need, url: str | None = None) -> WishCard:
    """What the card of `need` shows (its QR code encodes `url`, by default `wish_url`)."""
    url = url or wish_url(need.id)
    return WishCard(
        id=need.id, title=need.title, beneficiary=need.beneficiary,
        description=need.description, household=need.household.masked_name,
        village=need.village.short_place, amount_fen=need.amount_fen,
        remaining_fen=remaining_fen(need), expires_on=need.expires_on, status=need.status,
        url=url, qr=qr_svg(url, _("微心愿“%(title)s”的二维码", title=need.title)))


def get_wish(session: Session, need_id: int) -> Need | None:
    """The micro-wish `need_id` (None if there is none, or it is an ordinary need)."""
    need = session.get(Need, need_id)
    return need if need is not None and need.kind == NeedKind.wish else None


def open_wishes(session: Session, village_id: int, today: date,
                household_ids: list[int] | None = None) -> list[Need]:
    """A village's open micro-wishes not past their expiry, oldest first (only those of
    `household_ids` when given: a liaison's households)."""
    stmt = (select(Need)
            .where(Need.kind == NeedKind.wish, Need.status == NeedStatus.open,
                   Need.village_id == village_id, Need.expires_on >= today)
            .options(joinedload(Need.household), joinedload(Need.village))
            .order_by(Need.id))
    if household_ids is not None:
        stmt = stmt.where(Need.household_id.in_(household_ids))
    return list(session.scalars(stmt))
