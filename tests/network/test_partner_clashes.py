"""The duplicate check before a new partner is saved: the NPI on file, a very similar name."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outcomes.network.partners import (
    SIMILAR_NAME,
    add_partner,
    name_key,
    name_similarity,
    partner_clashes,
)
from tests.network.helpers import make_npi


@pytest.mark.parametrize(("a", "b", "same"), [
    # titles, credentials, punctuation and order say nothing about who it is
    ("Dr. John Smith, MD", "John Smith", True),
    ("Smith, John", "john smith", True),
    # accents are folded
    ("José Núñez", "Jose Nunez", True),
    # an ampersand is "and", which is noise
    ("Smith & Jones Orthopedics", "Smith and Jones Orthopedics", True),
    # a different first name is a different person
    ("Jane Smith", "John Smith", False),
])
def test_name_key(a, b, same):
    assert (name_key(a) == name_key(b)) is same


def test_a_name_of_titles_only_keeps_its_words():
    # "Dr. MD" would otherwise reduce to nothing and match every other empty key
    assert name_key("Dr. MD") == "dr md"


@pytest.mark.parametrize(("a", "b", "low", "high"), [
    ("Jon Smith", "John Smith", 0.94, 0.96),        # one letter missing: warn
    ("Jane Smith", "John Smith", 0.79, 0.81),       # another person: no warning
    ("Lakeside Orthopaedics", "Lakeside Orthopedics", 0.97, 0.99),
    ("Anna Lee", "Zed Quorum", 0.0, 0.3),
])
def test_name_similarity_examples(a, b, low, high):
    assert low <= name_similarity(a, b) <= high


def test_the_documented_examples_fall_either_side_of_the_threshold():
    assert name_similarity("Jon Smith", "John Smith") >= SIMILAR_NAME
    assert name_similarity("Jane Smith", "John Smith") < SIMILAR_NAME


names = st.text(alphabet=st.characters(categories=("L", "N", "Zs", "P")), max_size=40)


@given(names, names)
def test_similarity_is_symmetric_and_bounded(a, b):
    score = name_similarity(a, b)
    assert 0.0 <= score <= 1.0
    assert score == name_similarity(b, a)


@given(st.lists(st.sampled_from(["anna", "lee", "north", "clinic", "ortho", "b2"]),
                min_size=1, max_size=4), st.randoms())
def test_word_order_and_case_never_matter(words, rnd):
    shuffled = list(words)
    rnd.shuffle(shuffled)
    assert name_similarity(" ".join(words), " ".join(shuffled).upper()) == 1.0


def test_npi_on_file_comes_first_and_says_so(db):
    npi = make_npi()
    old = add_partner(db, {"name": "Lakeside Ortho", "kind": "ortho", "npi": npi}).id
    clashes = partner_clashes(db, "Harbor Spine", npi)
    assert [(c.partner_id, c.reason) for c in clashes] == [(old, "npi")]
    text = clashes[0].message("Harbor Spine")
    assert npi in text and "Lakeside Ortho" in text and "changed its name" in text
    # the same name: no talk of a name change
    assert "changed its name" not in partner_clashes(db, "Lakeside Ortho", npi)[0].message(
        "Lakeside Ortho")


def test_similar_names_are_listed_most_similar_first_and_others_are_not(db):
    exact = add_partner(db, {"name": "John Smith", "kind": "pcp"}).id
    close = add_partner(db, {"name": "Jon Smith", "kind": "pcp"}).id
    add_partner(db, {"name": "Jane Smith", "kind": "pcp"})
    clashes = partner_clashes(db, "Dr. John Smith")
    assert [(c.partner_id, c.reason) for c in clashes] == [(exact, "name"), (close, "name")]
    assert "John Smith" in clashes[0].message("Dr. John Smith")


def test_nothing_similar_and_an_invalid_npi_give_no_clash(db):
    add_partner(db, {"name": "John Smith", "kind": "pcp", "npi": make_npi()})
    assert partner_clashes(db, "Harbor Spine", "1234567890") == []  # bad check digit
    assert partner_clashes(db, "", None) == []


def test_threshold_boundary(db):
    add_partner(db, {"name": "Jon Smith", "kind": "pcp"})
    score = name_similarity("John Smith", "Jon Smith")
    # at the threshold it warns; just above it does not
    assert len(partner_clashes(db, "John Smith", threshold=score)) == 1
    assert partner_clashes(db, "John Smith", threshold=score + 1e-9) == []
    assert len(partner_clashes(db, "John Smith", threshold=score - 1e-9)) == 1


@given(names, names, st.floats(min_value=0.0, max_value=1.0))
def test_the_quick_bounds_never_drop_a_similar_name(a, b, floor):
    from outcomes.network.partners import _key_similarity

    full = name_similarity(a, b)
    quick = _key_similarity(name_key(a), name_key(b), floor)
    assert quick == full or (quick == 0.0 and full < floor)
