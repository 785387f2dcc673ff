"""The buyer's address book: saved at checkout (the last one used becomes the default), offered
again on the next checkout, deleted with a confirmation. Orders keep their own copy."""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.core.errors import NotFound
from marketplace.orders.models import SavedAddress
from marketplace.orders.services import AddressInput, _clean_address

MAX_ENTRIES = 20


def book(session: Session, user: User) -> list[SavedAddress]:
    return list(session.scalars(select(SavedAddress).where(SavedAddress.user_id == user.id)
                                .order_by(SavedAddress.is_default.desc(),
                                          SavedAddress.updated_at.desc())))


def get(session: Session, user: User, address_id: int) -> SavedAddress:
    entry = session.get(SavedAddress, address_id)
    if entry is None or entry.user_id != user.id:
        raise NotFound("未找到该地址")
    return entry


def save(session: Session, user: User, address: AddressInput) -> SavedAddress:
    """Keep an address (the same one again only moves to the top) as the default."""
    fields, region = _clean_address(session, address)
    session.execute(update(SavedAddress).where(SavedAddress.user_id == user.id)
                    .values(is_default=False))
    for entry in book(session, user):
        if (entry.recipient, entry.mobile, entry.region_id, entry.detail) == (
                fields["recipient"], fields["mobile"], region.id, fields["address_detail"]):
            entry.is_default = True
            session.flush()
            return entry
    entries = book(session, user)
    for old in entries[MAX_ENTRIES - 1:]:
        session.delete(old)
    entry = SavedAddress(user_id=user.id, recipient=fields["recipient"], mobile=fields["mobile"],
                         region_id=region.id, detail=fields["address_detail"], is_default=True)
    session.add(entry)
    session.flush()
    return entry


def delete(session: Session, user: User, address_id: int) -> None:
    session.delete(get(session, user, address_id))
    session.flush()
