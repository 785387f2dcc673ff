"""Which seller a seller-console page works on (the seller console's pages and the seller's
order pages share it): the signed-in user's sellers and ?seller=<id>, policy-checked."""
from __future__ import annotations

from flask import abort, request
from flask_login import current_user

from marketplace.core.errors import ValidationFailed
from marketplace.core.i18n import Msg
from marketplace.core.inputs import id_value
from marketplace.extensions import db
from marketplace.sellers import services as sellers


def my_sellers():
    return [sellers.get_managed(db.session, current_user, sid)
            for sid in sorted(current_user.seller_ids())]


def pick_seller(mine):
    """?seller=<id> (policy-checked: 404 for another seller) or the user's first seller."""
    raw = request.args.get("seller")
    wanted = id_value(raw)
    if raw and wanted is None:  # not an id at all, or beyond what the database holds
        raise ValidationFailed(Msg("经营主体编号无效：%(raw)s", raw=raw[:30]), field="seller")
    if wanted:
        return sellers.get_managed(db.session, current_user, wanted)
    return mine[0] if mine else None


def console_seller():
    """(the user's sellers, the one this page works on)."""
    mine = my_sellers()
    seller = pick_seller(mine)
    if seller is None:
        abort(404)
    if seller not in mine:
        mine = [*mine, seller]  # a platform admin looking at a seller they do not staff
    return mine, seller
