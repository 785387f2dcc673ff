"""The social-help side (社会帮扶): needs and micro-wishes for households, reviewed, claimed and
confirmed (`help.needs`); the donation pool with its hash-chained ledger and the sellers'
charity pledges (`help.pool`); fairs and live-sale events (`help.events`). Above units, below
reports (which read the match rate)."""
