"""When runs start: the nightly schedule (``FVI_SCHEDULE_CRON``, UTC) and a sensor on the publishers' files.

The sensor asks each registry URL for its ``ETag`` / ``Last-Modified`` (HEAD) and starts a run when
one changes; the first look only records them. Unreachable URLs keep their previous value.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import dagster as dg
import httpx

from fvi.settings import Settings, get_settings

SENSOR_NAME = "fvi_source_change"
SCHEDULE_NAME = "fvi_nightly"


def registry_urls() -> list[str]:
    from fvi.registry import load_sources

    return sorted({f.url for s in load_sources().values() for f in s.files if f.url.startswith("http")})


def probe(client: httpx.Client, url: str) -> str | None:
    """``etag|last-modified`` of ``url``, or None when it does not answer."""
    try:
        r = client.head(url, follow_redirects=True)
    except httpx.HTTPError:
        return None
    if r.status_code >= 400:
        return None
    etag, modified = r.headers.get("etag", ""), r.headers.get("last-modified", "")
    return f"{etag}|{modified}" if etag or modified else None


def nightly_schedule(job: dg.UnresolvedAssetJobDefinition, settings: Settings) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name=SCHEDULE_NAME,
        job=job,
        cron_schedule=settings.schedule_cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        tags={"fvi/trigger": "schedule"},
        description=f"The nightly run ({settings.schedule_cron} UTC, FVI_SCHEDULE_CRON).",
    )


def source_change_sensor(
    job: dg.UnresolvedAssetJobDefinition,
    settings: Settings,
    urls: Callable[[], list[str]] = registry_urls,
) -> dg.SensorDefinition:
    @dg.sensor(
        name=SENSOR_NAME,
        job=job,
        minimum_interval_seconds=settings.sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Starts a run when a source file's ETag or Last-Modified changes.",
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        current = get_settings()
        if current.offline:
            return dg.SkipReason("FVI_OFFLINE is set: not asking the publishers")
        previous: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
        seen: dict[str, str] = {}
        unreachable: list[str] = []
        with httpx.Client(timeout=min(current.http_timeout, 30.0)) as client:
            for url in urls():
                value = probe(client, url)
                if value is None:
                    unreachable.append(url)
                    if url in previous:
                        seen[url] = previous[url]
                else:
                    seen[url] = value
        changed = sorted(u for u, v in seen.items() if u in previous and previous[u] != v)
        cursor = json.dumps(seen, sort_keys=True)
        if changed:
            key = hashlib.sha256(cursor.encode()).hexdigest()[:16]
            return dg.SensorResult(
                run_requests=[dg.RunRequest(run_key=key, tags={"fvi/trigger": "source-change",
                                                               "fvi/changed": ",".join(changed)[:1000]})],
                cursor=cursor,
            )
        note = f"; {len(unreachable)} unreachable" if unreachable else ""
        reason = "recorded the sources' versions" if not previous else "no source changed"
        return dg.SensorResult(skip_reason=dg.SkipReason(f"{reason} ({len(seen)} files{note})"), cursor=cursor)

    return _sensor
