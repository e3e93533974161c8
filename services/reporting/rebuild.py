"""``renshe reporting rebuild``: drop every read model and fold the topics into them again.

The runtime's ``Rebuild`` does the work (pause the worker, reset, read from the earliest offsets, ask the
producers' relays to republish what the topics lost); this module names reporting's projection, its
topics (one per listed source, ``services.reporting.sources``) and the relay of each topic
(docs/adr/0003-rebuild.md). The staff-performance model (``services.reporting.staff``, in its own
schema) is rebuilt with the region figures from the same reading: each batch is read and decoded once.
"""

from __future__ import annotations

from collections.abc import Callable

from services.reporting.app import ReportingSettings, ddl, source_topics
from services.reporting.projection import RegionMetricsProjection
from services.reporting.staff.projection import StaffPerformanceProjection
from services.reporting.staff.worker import prepare_staff_pool
from services.runtime.process import prepare_database
from services.runtime.rebuild import (
    REBUILD_BATCH,
    ProgressCallback,
    Rebuild,
    RebuildReport,
    default_shards,
)


def relay_urls(settings: ReportingSettings) -> dict[str, str]:
    """The ops URL of the relay behind each source topic, where one is configured."""
    urls = {topic: settings.relay_url(topic) for topic in source_topics()}
    return {topic: url for topic, url in urls.items() if url}


async def rebuild_read_models(
    settings: ReportingSettings,
    *,
    batch_size: int | None = None,
    shards: int | None = None,
    on_progress: ProgressCallback | None = None,
    on_report: Callable[[RebuildReport], None] | None = None,
) -> RebuildReport:
    """Rebuild every reporting read model from the topics, read once for all of them; returns the region
    figures' report (the staff-performance model's is in its ``also``), and gives each model's report to
    ``on_report`` when the rebuild ends (the region figures', then the staff-performance model's).

    ``batch_size``: events per transaction (default ``REBUILD_BATCH``); ``shards``: processes that read in
    parallel, a share of the partitions each (default: one per CPU).
    """
    region_pool = await prepare_database(settings, ddl())
    try:
        staff_pool = await prepare_staff_pool(settings)
        try:
            report = await Rebuild(
                region_pool,
                RegionMetricsProjection(),
                source_topics(),
                settings.kafka_bootstrap_servers,
                also=[(staff_pool, StaffPerformanceProjection())],
                relays=relay_urls(settings),
                batch_size=batch_size or REBUILD_BATCH,
                shards=shards or default_shards(),
                on_progress=on_progress,
            ).run()
        finally:
            await staff_pool.close()
    finally:
        await region_pool.close()
    if on_report is not None:
        for each in (report, *report.also):
            on_report(each)
    return report
