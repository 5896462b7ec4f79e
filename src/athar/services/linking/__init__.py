"""Linkage runs on the store, the review queue and the candidates shown for a subject."""
