"""The status moves a form offers, and the next episode id it suggests."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outcomes.errors import ValidationError
from outcomes.network.referrals import (
    MOVES,
    REOPEN,
    allowed_moves,
    check_transition,
    move_label,
    suggest_episode_id,
)
from outcomes.vocab import EPISODE_STATUSES
from tests.network.helpers import TODAY, add_referral


@pytest.mark.parametrize(("status", "moves"), [
    # a new referral can go anywhere forward, or end as not scheduled or cancelled
    ("received", ["scheduled", "evaluated", "in_care", "discharged", "not_scheduled",
                  "cancelled"]),
    # scheduled again changes the date
    ("scheduled", ["scheduled", "evaluated", "in_care", "discharged", "not_scheduled",
                   "cancelled"]),
    # once seen it was scheduled: cancelled, never not scheduled; never backwards
    ("evaluated", ["in_care", "discharged", "cancelled"]),
    ("in_care", ["discharged", "cancelled"]),
    # closed: only reopen
    ("discharged", [REOPEN]),
    ("not_scheduled", [REOPEN]),
    ("cancelled", [REOPEN]),
])
def test_allowed_moves(status, moves):
    assert allowed_moves(status) == moves


@given(st.sampled_from(EPISODE_STATUSES.values), st.sampled_from(MOVES))
def test_every_offered_move_passes_the_core_check_and_every_other_fails(status, new):
    offered = new in allowed_moves(status)
    try:
        check_transition(status, new)
        passes = True
    except ValidationError:
        passes = False
    if offered:
        assert passes
    elif REOPEN not in allowed_moves(status):
        # not offered yet allowed: only staying where it is (no move)
        assert not passes or new == status


def test_labels_are_plain_words():
    assert [move_label(m) for m in (*MOVES, REOPEN)] == [
        "scheduled", "evaluated", "in care", "discharged", "not scheduled", "cancelled",
        "reopened"]


def test_suggested_episode_id_follows_the_last_one_added(db):
    assert suggest_episode_id(db) == "E00001"
    add_referral(db, None, TODAY, episode_id="C-0099")
    assert suggest_episode_id(db) == "C-0100"
    add_referral(db, None, TODAY, episode_id="C-0101")  # taken already: skipped
    add_referral(db, None, TODAY, episode_id="C-0100")
    assert suggest_episode_id(db) == "C-0102"
    add_referral(db, None, TODAY, episode_id="no-number")  # the last with digits counts
    assert suggest_episode_id(db) == "C-0102"


def test_suggested_episode_id_keeps_growing_past_its_padding(db):
    add_referral(db, None, TODAY, episode_id="E99")
    assert suggest_episode_id(db) == "E100"
