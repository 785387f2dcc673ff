"""Fairs and live-sale events (消费帮扶集市, 直播带货): event pages, the orders and offline sales that carry the event, and its report."""
