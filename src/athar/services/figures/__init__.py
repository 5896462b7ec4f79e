"""Figures read from the whole registry: descriptive counts (SQL read model) and estimate runs."""
