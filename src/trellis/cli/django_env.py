"""Start Django for the commands that need it (pure commands never import Django)."""

from __future__ import annotations

import os


def setup_django(*, demo: bool = False) -> None:
    if demo:
        os.environ["TRELLIS_DEMO"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trellis.settings")
    import django

    django.setup()
