"""The monthly evaluation's pure parts: what an event credits to whom, the score, the rankings, the last
places and the 以奖代补 list (docs/rules.md, "Staff performance")."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from contracts.envelope import EventEnvelope
from services.reporting.staff.credit import credits_of, staff_of
from services.reporting.staff.scoring import StaffWork, evaluate, region_targets
from services.reporting.staff.settings import StaffPerformanceSettings
from tests.factories import envelope as factory_envelope

SETTINGS = StaffPerformanceSettings()
TOWNSHIP = "430527100000"


def envelope(type_: str, actor: str | None, **data: object) -> EventEnvelope:
    # 20:00 UTC on 30 November is 1 December in China.
    at = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
    return factory_envelope(type_, stream_type="assistance_case", actor=actor, occurred_at=at, **data)


def test_a_service_credits_who_gave_it_on_the_day_it_was_given() -> None:
    [credit] = credits_of(envelope("VocationalGuidanceGiven", "v-yang", given_on="2026-11-03", topic="t", outcome="o"))
    assert (credit.staff, credit.kind, credit.points, credit.day) == ("v-yang", "service_given", 1, date(2026, 11, 3))


def test_an_event_without_a_date_of_its_own_counts_on_its_day_in_china() -> None:
    [credit] = credits_of(envelope("PersonRegistered", "v-yang", person_id="p"))
    assert credit.day == date(2026, 12, 1)


def test_a_hired_referral_is_workload_and_effect_a_failed_one_workload_only() -> None:
    hired = credits_of(envelope("ReferralOutcomeRecorded", "v-yang", outcome="hired", recorded_on="2026-11-05"))
    assert sorted((c.kind, c.points) for c in hired) == [("referral_hired", 1), ("referral_outcome", 1)]
    failed = credits_of(envelope("ReferralOutcomeRecorded", "v-yang", outcome="no_show", recorded_on="2026-11-05"))
    assert [c.kind for c in failed] == ["referral_outcome"]


def test_reactions_credit_only_results_to_the_staff_member_at_the_end_of_the_chain() -> None:
    chain = "registration:assistance:v-yang"
    assert staff_of(chain, via_reactions=True) == "v-yang"
    assert staff_of(chain, via_reactions=False) is None
    cleared = envelope("ZeroEmploymentHouseholdCleared", chain, within_target=True, cleared_on="2026-11-09")
    assert [(c.staff, c.kind, c.points) for c in credits_of(cleared)] == [
        ("v-yang", "zero_household_cleared_in_time", 3)
    ]
    late = envelope("ZeroEmploymentHouseholdCleared", chain, within_target=False, cleared_on="2026-11-09")
    assert credits_of(late) == []
    # a registration the worker made on assistance's behalf is nobody's workload
    assert credits_of(envelope("PersonRegistered", "assistance:v-yang", person_id="p")) == []


def test_a_rating_credits_the_staff_member_it_names_with_its_score() -> None:
    rated = envelope("ServiceRated", "clerk-typing", staff="v-yang", score=4, rated_on="2026-11-20")
    assert [(c.staff, c.kind, c.points) for c in credits_of(rated)] == [("v-yang", "rating", 4)]


def test_a_complaint_decided_late_is_workload_without_effect() -> None:
    late = credits_of(envelope("ComplaintAccepted", "t-li", accepted_on="2026-11-10", decided_late=True))
    assert [c.kind for c in late] == ["complaint_decided"]
    on_time = credits_of(envelope("ComplaintAccepted", "t-li", accepted_on="2026-11-10", decided_late=False))
    assert sorted(c.kind for c in on_time) == ["complaint_decided", "complaint_decided_in_time"]


def work(subject: str, role: str, region: str, ratings: tuple[int, ...] = (), **kinds: int) -> StaffWork:
    return StaffWork(
        staff_id=f"id-{subject}",
        subject=subject,
        role=role,
        region_code=region,
        township_code=region[:9] + "000",
        counts=kinds,
        ratings=ratings,
    )


def test_scores_follow_the_four_parts_and_their_weights() -> None:
    busy = work("a", "broker", "430527100201", (5, 5), service_given=20, placement=2)
    [e] = evaluate([busy], SETTINGS, 2026)
    # workload 20/20 -> 100; effect 6/6 -> 100; cost: the only one is the best -> 100; satisfaction 5 -> 100
    assert e.parts == {"workload": 100.0, "cost": 100.0, "effect": 100.0, "satisfaction": 100.0}
    assert e.score == 100.0
    assert e.monthly_funding_yuan == round(5000 / 12, 2)


def test_without_ratings_the_other_parts_share_the_satisfaction_weight() -> None:
    best = work("a", "broker", "430527100201", service_given=20, placement=2)
    half = work("b", "broker", "430527100202", service_given=10, placement=1)
    evaluations = {e.work.subject: e for e in evaluate([best, half], SETTINGS, 2026)}
    b = evaluations["b"]
    assert b.parts == {"workload": 50.0, "cost": 50.0, "effect": 50.0, "satisfaction": None}
    assert b.score == 50.0  # (30*50 + 20*50 + 30*50) / 80


def test_cost_is_output_per_yuan_against_the_best_of_the_county() -> None:
    broker = work("a", "broker", "430527100201", service_given=10)  # 10 points for 5,000 a year
    officer = work("b", "guidance_officer", TOWNSHIP, service_given=30)  # 30 points for 30,000 a year
    evaluations = {e.work.subject: e for e in evaluate([broker, officer], SETTINGS, 2026)}
    assert evaluations["a"].parts["cost"] == 100.0
    assert evaluations["b"].parts["cost"] == 50.0  # 30/2500 against 10/416.67


def test_funding_per_year_overrides_the_default() -> None:
    settings = StaffPerformanceSettings(funding_by_year={2027: {"broker": 6000}})
    assert settings.funding("broker", 2027) == 6000
    assert settings.funding("broker", 2026) == 5000
    assert settings.funding("guidance_officer", 2027) == 30000


def test_rankings_within_township_and_county_with_the_last_flagged() -> None:
    works = [
        work("a", "broker", "430527100201", service_given=20, placement=2),
        work("b", "broker", "430527100202", service_given=5),
        work("c", "guidance_officer", TOWNSHIP, service_given=30, placement=1),
        work("d", "broker", "430527101201", service_given=10),  # another township, alone in it
    ]
    evaluations = evaluate(works, SETTINGS, 2026, last_before=frozenset({"b"}))
    assert [e.work.subject for e in evaluations] == ["a", "c", "d", "b"]
    by = {e.work.subject: e for e in evaluations}
    assert [by[s].county_rank for s in "acdb"] == [1, 2, 3, 4]
    assert [(by[s].township_rank, by[s].township_size) for s in "acb"] == [(1, 3), (2, 3), (3, 3)]
    assert (by["d"].township_rank, by["d"].township_size, by["d"].last_in_township) == (1, 1, False)
    assert [s for s in "abcd" if by[s].last_in_township] == ["b"]
    assert [s for s in "abcd" if by[s].last_in_county] == ["b"]
    assert by["b"].dismissal_due  # last this month and the month before (seed 003)
    assert not any(by[s].dismissal_due for s in "acd")


def test_equal_scores_share_a_rank() -> None:
    works = [work(s, "broker", f"43052710020{n}", service_given=10) for n, s in enumerate("xyz", 1)]
    assert [e.county_rank for e in evaluate(works, SETTINGS, 2026)] == [1, 1, 1]


def test_a_township_and_a_village_meet_their_targets_by_score_and_placements() -> None:
    works = [
        work("a", "broker", "430527100201", (5,), service_given=20, placement=2),
        work("b", "broker", "430527100202", service_given=20),
        work("c", "guidance_officer", TOWNSHIP, (5,), service_given=40, placement=4),
    ]
    targets = {t.region_code: t for t in region_targets(evaluate(works, SETTINGS, 2026), SETTINGS)}
    assert targets["430527100201"].met and targets["430527100201"].placements == 2
    assert not targets["430527100202"].met  # no placement
    township = targets[TOWNSHIP]
    assert (township.level, township.staff, township.placements) == ("township", 3, 6)
    # a 100, b (30*100 + 20*76.92) / 80 = 56.73, c (30*100 + 20*33.33 + 30*100 + 20*100) / 100 = 86.67
    assert township.mean_score == pytest.approx(81.13, abs=0.01)
    assert township.met


def test_settings_refuse_weights_without_the_four_parts_and_roles_left_out() -> None:
    with pytest.raises(ValidationError, match="weights needs exactly"):
        StaffPerformanceSettings(weights={"workload": 1.0})
    with pytest.raises(ValidationError, match="every role"):
        StaffPerformanceSettings(funding_yuan={"broker": 5000})
