from typing import Any

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


class AuditConfig(AppConfig):
    name = "trellis.audit"
    label = "audit"

    def ready(self) -> None:
        from trellis.audit import signals  # noqa: F401  (connects the receivers)
        from trellis.audit.chain import register_sqlite_function

        connection_created.connect(register_sqlite_function, dispatch_uid="trellis_audit_fn")
        post_migrate.connect(_ensure_guards, sender=self, dispatch_uid="trellis_audit_guards")


def _ensure_guards(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """Re-create the append-only triggers after every migrate: SQLite drops a table's triggers
    when a later migration rebuilds the table."""
    from django.db import connections

    from trellis.audit.chain import install_guards

    connection = connections[using]
    if "audit_auditevent" in connection.introspection.table_names():
        install_guards(connection)
