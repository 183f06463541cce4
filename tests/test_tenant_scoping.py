"""No bare ``.objects`` query of a patient-data model outside its app's services and models.

Patient-data models are those with ``PATIENT_DATA = True``. Their rows may only be read or
written through the owning app's ``services.py`` (which checks roles and audits) or its
``models.py``/``managers.py`` (the ``visible_to`` scoping itself). Migrations are exempt.
"""

from __future__ import annotations

import ast
from pathlib import Path

import django.apps

SRC = Path(__file__).resolve().parent.parent / "src" / "trellis"
ALLOWED_FILES = {"services.py", "models.py", "managers.py"}
MANAGERS = {"objects", "_default_manager"}


def patient_data_models() -> dict[str, str]:
    """Model class name -> owning app folder name."""
    found = {}
    for model in django.apps.apps.get_models():
        if getattr(model, "PATIENT_DATA", False):
            found[model.__name__] = model.__module__.split(".")[1]
    return found


def offending_uses(models: dict[str, str], root: Path = SRC) -> list[str]:
    problems = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if "migrations" in rel.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Attribute) and node.attr in {"objects", "_default_manager"}
            ):
                continue
            target = node.value
            name = target.id if isinstance(target, ast.Name) else getattr(target, "attr", None)
            if name not in models:
                continue
            owner = models[name]
            if rel.parts[0] == owner and rel.name in ALLOWED_FILES:
                continue
            problems.append(f"{rel}:{node.lineno}: {name}.{node.attr}")
    return problems


def test_patient_data_models_are_declared() -> None:
    models = patient_data_models()
    assert {"Patient", "Consent"} <= set(models)


def test_no_bare_objects_query_outside_services() -> None:
    assert offending_uses(patient_data_models()) == []


def test_the_walker_catches_a_bare_query(tmp_path: Path) -> None:
    # The check itself must be able to fail: a view that queries Patient directly is caught,
    # while the owning app's services may.
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "views.py").write_text("def v():\n    return Patient.objects.all()\n")
    (tmp_path / "patients").mkdir()
    (tmp_path / "patients" / "services.py").write_text("x = Patient.objects.all()\n")
    assert offending_uses({"Patient": "patients"}, tmp_path) == ["web/views.py:2: Patient.objects"]
