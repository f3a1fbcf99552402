"""A 100,000-user tenant: created at once, paged completely with exact counts."""

from __future__ import annotations

import time
import uuid

from tests.fixtures.emulator import TEST_APP

USERS = 100_000


def test_hundred_thousand_users_page_completely(emulator, record_property):
    started = time.monotonic()
    info = emulator.control.create_tenant(
        domain=f"big{uuid.uuid4().hex[:8]}.example.com", seed=2024, users=USERS
    )
    created_in = time.monotonic() - started
    assert created_in < 2.0  # users are generated lazily, not at creation
    token = emulator.control.mint_token(
        info.id, app_id=TEST_APP.app_id, roles=["User.Read.All", "Sites.Read.All", "Group.Read.All"]
    )
    try:
        with emulator.http(headers={"Authorization": f"Bearer {token}"}) as graph:
            started = time.monotonic()
            ids, pages = set(), 0
            url = "/v1.0/users?$top=999"
            while url:
                body = graph.get(url).json()
                ids.update(u["id"] for u in body["value"])
                pages += 1
                url = body.get("@odata.nextLink")
            paged_in = time.monotonic() - started
            assert len(ids) == USERS and pages == 101
            record_property("page_100k_users_seconds", round(paged_in, 2))
            print(f"\ncreated in {created_in:.3f}s; paged {USERS} users in {paged_in:.2f}s")

            eventual = {"ConsistencyLevel": "eventual"}
            assert graph.get("/v1.0/users/$count", headers=eventual).text == str(USERS)
            counted = graph.get("/v1.0/users?$count=true&$top=1", headers=eventual).json()
            assert counted["@odata.count"] == USERS
            last = graph.get(f"/v1.0/users/{body['value'][-1]['id']}").json()
            assert last["id"] == body["value"][-1]["id"]
            unified = graph.get(
                "/v1.0/groups?$count=true&$top=1&$filter=groupTypes/any(c:c eq 'Unified')",
                headers=eventual,
            ).json()["@odata.count"]
            sites = graph.get("/v1.0/sites?search=*&$count=true").json()["@odata.count"]
            assert sites == 1 + info.sites + unified  # root, plain sites, group sites
    finally:
        emulator.control.delete_tenant(info.id)
