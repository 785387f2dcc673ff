"""Needs (帮扶需求) and micro-wishes (微心愿): posted for a household, reviewed by an office, claimed by donors, delivered and confirmed by the liaison."""
