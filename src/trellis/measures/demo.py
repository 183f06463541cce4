"""Synthetic measures for the demo (filled in below)."""
