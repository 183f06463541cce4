"""Pure clinical rules: no Django, no I/O, the clock passed in as an argument.

Every module here is importable without Django settings and is tested without a database.
A rule has one home: views, the API, the CLI and analytics all call these functions.
"""
