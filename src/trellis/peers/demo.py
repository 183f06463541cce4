"""Peers demo: see the seeder below."""
