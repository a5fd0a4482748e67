"""Prometheus metrics, one registry per application (several apps may live in one test process)."""
from __future__ import annotations

import attrs
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST


@attrs.frozen
class Metrics:
    registry: CollectorRegistry
    webhooks: Counter  # by provider and outcome: stored, duplicate, missing_signature, bad_signature, malformed, too_large

    @classmethod
    def create(cls) -> Metrics:
        registry = CollectorRegistry()
        return cls(registry, Counter("commsinbox_webhooks", "Provider webhook requests by outcome",
                                     ["provider", "outcome"], registry=registry))


metrics_key = web.AppKey("metrics", Metrics)


async def metrics_view(request: web.Request) -> web.Response:
    body = generate_latest(request.app[metrics_key].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
