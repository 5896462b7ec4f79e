"""Keeping the store safe: encrypted backups and key rotation."""
