"""Corpora: reading and writing every supported format, the foundation of every other package."""
