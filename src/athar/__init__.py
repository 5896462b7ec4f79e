"""Athar (أثر, "trace"): find out what happened to people who disappeared in detention."""

__version__ = "0.1.0"
