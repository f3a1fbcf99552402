"""Properties of the generator the HTTP behaviour rests on (in-process, no server):
reversible ids, lookups by UPN, id and URL, and the $filter parser."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from m365.emulator.generator import TenantData
from m365.emulator.graph.filters import compile_filter
from m365.emulator.ids import IndexedIds

TENANT = TenantData(
    tenant_id="7c1d3f0e-0000-4000-8000-000000000001", domain="prop.example.com", seed=77, users=5000
)


@given(st.integers(min_value=0, max_value=2**40))
def test_indexed_ids_round_trip(index):
    ids = IndexedIds(1, "t", "user")
    assert ids.index_of(ids.id_of(index)) == index
    assert uuid.UUID(ids.id_of(index)).version == 4


@given(st.uuids(version=4))
def test_random_guids_are_not_users(value):
    assert TENANT.user_index_by_id(str(value)) is None


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=4999))
def test_users_are_found_by_id_and_upn(index):
    user = TENANT.user(index)
    assert TENANT.user_index_by_id(user.id) == index
    assert TENANT.user_index_by_upn(user.user_principal_name.upper()) == index


@settings(max_examples=200)
@given(st.data())
def test_sites_are_found_by_id_and_url(data):
    ordinal = data.draw(st.integers(min_value=0, max_value=TENANT.site_count - 1))
    site = TENANT.site(ordinal)
    assert site.ordinal == ordinal
    assert TENANT.site_by_id(site.id) == site
    assert TENANT.site_by_url(site.web_url) == site


def test_same_seed_same_content_other_tenant_other_ids():
    other = TenantData(
        tenant_id="7c1d3f0e-0000-4000-8000-000000000002",
        domain="prop.example.com",
        seed=77,
        users=5000,
    )
    for index in (0, 4, 999, 4999):
        mine, theirs = TENANT.user(index), other.user(index)
        assert mine.display_name == theirs.display_name and mine.id != theirs.id
        assert TENANT.mailbox_bytes(index, 3) == other.mailbox_bytes(index, 3)


@given(
    st.integers(-(10**6), 10**6),
    st.integers(-(10**6), 10**6),
    st.sampled_from(["eq", "ne", "gt", "ge", "lt", "le"]),
)
def test_filter_comparisons_match_python(a, b, op):
    expected = {"eq": a == b, "ne": a != b, "gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}[
        op
    ]
    assert compile_filter(f"n {op} {b}").predicate({"n": a}) is expected
