"""The three sinks pointed at local receivers: as Django settings (this process) and as
environment variables (a worker process)."""

from __future__ import annotations

from dataclasses import dataclass

from tests.tracking.receivers import Receiver

GA4_ID = "G-TEST123"
GA4_SECRET = "ga4-api-secret-0123456789"
META_PIXEL = "1234567890"
META_TOKEN = "meta-access-token-0123456789"
META_VERSION = "v21.0"
WEBHOOK_SECRET = "webhook-secret-0123456789"
SECRETS = (GA4_SECRET, META_TOKEN, WEBHOOK_SECRET)


@dataclass
class Receivers:
    ga4: Receiver
    meta: Receiver
    webhook: Receiver

    def all(self) -> list[Receiver]:
        return [self.ga4, self.meta, self.webhook]

    def clear(self) -> None:
        for r in self.all():
            r.clear()

    def env(self) -> dict[str, str]:
        return {
            "TRACKING_GA4_MEASUREMENT_ID": GA4_ID,
            "TRACKING_GA4_API_SECRET": GA4_SECRET,
            "TRACKING_GA4_URL": f"{self.ga4.url}/mp/collect",
            "TRACKING_META_PIXEL_ID": META_PIXEL,
            "TRACKING_META_ACCESS_TOKEN": META_TOKEN,
            "TRACKING_META_URL": self.meta.url,
            "TRACKING_META_API_VERSION": META_VERSION,
            "TRACKING_WEBHOOK_URL": f"{self.webhook.url}/hooks/purchase",
            "TRACKING_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
