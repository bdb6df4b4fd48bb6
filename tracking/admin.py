"""The dead-letter list in the admin: "Failed tracking events", read-only, with "Send again"."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from storefront.redis_client import get_redis
from tracking import dedupe
from tracking.models import FailedEvent
from tracking.tasks import queue_send


@admin.register(FailedEvent)
class FailedEventAdmin(admin.ModelAdmin):
    list_display = ("failed_at", "sink", "order", "error", "attempts")
    list_filter = ("sink",)
    search_fields = ("order",)
    readonly_fields = ("sink", "order", "event", "error", "attempts", "failed_at")
    actions = ["send_again"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Send again (and remove from this list)")
    def send_again(self, request: HttpRequest, queryset: QuerySet[FailedEvent]) -> None:
        r = get_redis()
        count = 0
        for failed in queryset:
            dedupe.release_send(r, failed.sink, failed.order)
            queue_send(sink=failed.sink, event=failed.event)
            failed.delete()
            count += 1
        self.message_user(request, f"{count} event(s) queued again.", messages.SUCCESS)
