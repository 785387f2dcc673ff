"""Units (单位): budget units, enterprises, unions and social organisations; their members,
annual reserved-share filings reviewed by offices, counting orders toward a unit, leaderboards,
and group purchases (团购) that settle themselves at the deadline.

Modules: models; rules (pure: tiers, reserved amounts); services (units, members, invites);
counting (counted amounts, leaderboards); filings (annual filings and reviews, reminders);
exports (xlsx); campaigns (who may, opening, the fill, lists); participations (joining,
paying, changing, withdrawing, money back); settlement
(closing: orders at the tier price reached, or every hold released and every fen refunded);
views and campaign_views (the pages).
"""
