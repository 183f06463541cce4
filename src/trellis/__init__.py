"""Trellis: integration-centred care for ketamine and esketamine programs."""

__version__ = "0.1.0"
