"""What leaves the store: partner and research exports under consent and suppression rules."""
