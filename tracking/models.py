"""The dead-letter list: purchase events a sink never took, for an admin to see and send again.

In the database, not in Redis: the production Redis keeps nothing across a restart
(``--save "" --appendonly no``, RELIABILITY.md), and a lost purchase is exactly what this list
must not lose. The event stored is the one sent: hashed contact details only.
"""

from __future__ import annotations

from django.db import models


class FailedEvent(models.Model):
    sink = models.CharField(max_length=32)
    order = models.CharField(max_length=64, db_index=True)
    event = models.JSONField()
    error = models.CharField(max_length=200)
    attempts = models.PositiveIntegerField(default=1)
    failed_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-failed_at"]
        verbose_name = "failed tracking event"

    def __str__(self) -> str:
        return f"order {self.order} to {self.sink}"
