"""`wholecare escalate-risk`: record the escalation of risk tasks still unreviewed at the end of
the working day, and list them for the service managers. A scheduler runs it after 17:00 on
working days; the pages apply the same rule when read, so nothing waits for it."""

from typing import Any

from django.core.management.base import BaseCommand

from wholecare.talking_therapies import services


class Command(BaseCommand):
    help = "Escalate unreviewed PHQ-9 item 9 risk tasks to the service manager"

    def handle(self, *args: Any, **options: Any) -> None:
        escalated = services.risk_tasks_escalate()
        for task in escalated:
            where = task.service.name if task.service else "screening (no service)"
            self.stdout.write(f"risk task {task.pk} ({task.flag}) escalated: {where}")
        self.stdout.write(f"{len(escalated)} risk task(s) escalated")
