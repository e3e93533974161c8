"""``make contracts``: the JSON Schema of every event and an AsyncAPI 3.0 document of every topic.

Generated from ``contracts/`` so the published contract never drifts from the code; a test fails when the
committed files are stale.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from contracts.envelope import EventEnvelope
from contracts.registry import TOPIC_EVENTS
from contracts.topics import ALL_TOPICS


def event_schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema, for the envelope and every event."""
    schemas = {"EventEnvelope.json": EventEnvelope.model_json_schema()}
    for events in TOPIC_EVENTS.values():
        for event in events:
            schema = event.model_json_schema()
            schema["x-event-type"] = event.event_type
            schema["x-stream-type"] = event.stream_type
            schema["x-schema-version"] = event.schema_version
            schemas[f"{event.event_type}.v{event.schema_version}.json"] = schema
    return schemas


def asyncapi_document() -> dict[str, Any]:
    """AsyncAPI 3.0: a channel per topic, a message per event type, the envelope as the payload."""
    envelope = EventEnvelope.model_json_schema()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for topic in ALL_TOPICS:
        events = TOPIC_EVENTS.get(topic, ())
        refs = {e.event_type: {"$ref": f"#/components/messages/{e.event_type}"} for e in events}
        channels[topic.name] = {
            "address": topic.name,
            "description": topic.description,
            "messages": refs,
            "bindings": {"kafka": {"partitions": topic.partitions, "bindingVersion": "0.5.0"}},
        }
        operations[f"publish.{topic.name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{topic.name}"},
            "summary": f"{topic.producer} publishes its facts, keyed by stream id",
            "messages": [{"$ref": f"#/channels/{topic.name}/messages/{name}"} for name in refs],
        }
        for event in events:
            payload = json.loads(json.dumps(envelope))
            payload["properties"]["type"] = {"const": event.event_type, "type": "string"}
            payload["properties"]["data"] = {"$ref": f"schemas/{event.event_type}.v{event.schema_version}.json"}
            messages[event.event_type] = {
                "name": event.event_type,
                "title": event.event_type,
                "summary": (event.__doc__ or "").strip().splitlines()[0],
                "contentType": "application/json",
                "payload": payload,
                "bindings": {
                    "kafka": {"key": {"type": "string", "description": "stream id"}, "bindingVersion": "0.5.0"}
                },
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "renshe events",
            "version": "1.0.0",
            "description": "Facts the renshe services publish. At-least-once delivery: dedupe by event_id.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def rendered_documents() -> dict[str, str]:
    """Relative path -> file content, exactly as ``make contracts`` writes them."""
    files = {
        f"schemas/{name}": json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        for name, schema in event_schemas().items()
    }
    files["asyncapi.yaml"] = yaml.safe_dump(asyncapi_document(), allow_unicode=True, sort_keys=False)
    return files


def write_contract_documents(out: Path) -> list[Path]:
    """Write every document under ``out``; returns the paths written."""
    written = []
    for relative, content in rendered_documents().items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written
