"""The published contract (JSON Schemas, AsyncAPI) matches the code, and envelopes round-trip."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import yaml

from contracts.envelope import EventEnvelope
from contracts.registration import PersonRegistered
from contracts.registry import EVENT_TYPES, UnknownEventType, decode
from services.contracts_docs import rendered_documents
from tests.factories import envelope as make_envelope

ROOT = Path(__file__).resolve().parents[2] / "contracts"


@pytest.mark.parametrize("relative", sorted(rendered_documents()))
def test_committed_contract_documents_are_fresh(relative):
    committed = ROOT / relative
    assert committed.exists(), f"{relative} is missing: run `make contracts`"
    assert committed.read_text(encoding="utf-8") == rendered_documents()[relative], (
        f"{relative} is stale: run `make contracts` and commit the result"
    )


def test_asyncapi_names_every_topic_and_event():
    document = yaml.safe_load((ROOT / "asyncapi.yaml").read_text(encoding="utf-8"))
    assert document["asyncapi"] == "3.0.0"
    assert set(document["components"]["messages"]) == set(EVENT_TYPES)
    assert "registration.events" in document["channels"]


def test_an_envelope_round_trips_through_json_and_decodes_to_its_event():
    event = PersonRegistered(person_id="p1", sex="female", birth_date=date(1990, 3, 7), region_code="430527100201")
    envelope = make_envelope(event.event_type, stream_id="p1", **event.model_dump(mode="json"))
    again = EventEnvelope.model_validate_json(envelope.model_dump_json())
    assert again == envelope
    assert decode(again) == event


def test_an_unknown_event_type_is_refused_by_name():
    with pytest.raises(UnknownEventType, match="Nope"):
        decode(make_envelope("Nope"))


def test_event_schemas_have_required_fields():
    schema = json.loads((ROOT / "schemas" / "PersonRegistered.v1.json").read_text(encoding="utf-8"))
    assert {"person_id", "sex", "birth_date", "region_code"} <= set(schema["required"])
    assert "name" not in schema["properties"] and "id_number" not in schema["properties"], "no PII in events"
