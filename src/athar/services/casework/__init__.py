"""Case work: tracing requests, unidentified persons, notes and family notifications."""
