"""Trellis tests (a package, so that `tests` here always wins over a stray top-level `tests`
package some dependency installs, e.g. textstat 0.7.8, in child processes too)."""
