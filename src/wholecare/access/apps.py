from django.apps import AppConfig
from django.db.backends.signals import connection_created


class AccessConfig(AppConfig):
    name = "wholecare.access"
    verbose_name = "Access control and audit"

    def ready(self) -> None:
        from wholecare.access.purge import register_sqlite_function

        connection_created.connect(register_sqlite_function, dispatch_uid="wholecare-audit-purge")
