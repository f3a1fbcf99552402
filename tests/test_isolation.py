"""Tenant isolation, proved over every API route and every customer page.

Routes come from the live router and URL configuration, and rows from the factory registry
(tests/factories.py), so endpoints and pages added later are covered without editing this
file. Tenant B always holds rows, so a missing filter fails an assertion here.
"""

import pytest
from django.urls import URLPattern, URLResolver, reverse

from portal import urls as portal_urls
from portal.api.urls import router
from tests.factories import make_for_tenant

pytestmark = pytest.mark.django_db

ROUTES = [(prefix, viewset) for prefix, viewset, _ in router.registry]
ROUTE_IDS = [prefix for prefix, _ in ROUTES]


def _lookup(viewset, obj) -> str:
    return str(getattr(obj, viewset.lookup_field))


def _list_url(prefix):
    return f"/api/v1/{prefix}/"


def _detail_url(prefix, viewset, obj):
    return f"/api/v1/{prefix}/{_lookup(viewset, obj)}/"


def _rows(response) -> list[dict]:
    data = response.json()
    return data["results"] if isinstance(data, dict) and "results" in data else data


def _lookups_in(response, viewset) -> set[str]:
    field = viewset.lookup_field if viewset.lookup_field != "pk" else "id"
    return {str(row[field]) for row in _rows(response)}


@pytest.fixture
def rows(tenant_a, tenant_b):
    def make(viewset):
        model = viewset.queryset.model
        return make_for_tenant(model, tenant_a), make_for_tenant(model, tenant_b)

    return make


def _detail_actions(viewset, method: str):
    for extra in viewset.get_extra_actions():
        if extra.detail and method in extra.mapping:
            yield extra.url_path


@pytest.mark.parametrize(("prefix", "viewset"), ROUTES, ids=ROUTE_IDS)
def test_anonymous_gets_401(api, rows, prefix, viewset):
    obj_a, _ = rows(viewset)
    assert api.anonymous().get(_list_url(prefix)).status_code == 401
    assert api.get(_detail_url(prefix, viewset, obj_a)).status_code == 401
    assert api.post(_list_url(prefix), {}, format="json").status_code == 401


@pytest.mark.parametrize("who", ["customer", "tenant_key"])
@pytest.mark.parametrize(("prefix", "viewset"), ROUTES, ids=ROUTE_IDS)
def test_tenant_a_never_reaches_tenant_b(api, rows, customer_a, key_a, who, prefix, viewset):
    obj_a, obj_b = rows(viewset)
    client = api.as_user(customer_a) if who == "customer" else api.as_key(key_a)

    listing = client.get(_list_url(prefix))
    if "list" not in viewset.customer_actions:
        assert listing.status_code == 403
    else:
        assert listing.status_code == 200, listing.content
        seen = _lookups_in(listing, viewset)
        assert _lookup(viewset, obj_b) not in seen
        assert _lookup(viewset, obj_a) in seen, (
            "A's own row is missing: the list is not scoped but empty"
        )

    detail_b = client.get(_detail_url(prefix, viewset, obj_b))
    assert detail_b.status_code in (403, 404)
    if "retrieve" in viewset.customer_actions:
        assert detail_b.status_code == 404
        assert client.get(_detail_url(prefix, viewset, obj_a)).status_code == 200

    for path in _detail_actions(viewset, "get"):
        answer = client.get(f"{_detail_url(prefix, viewset, obj_b)}{path}/")
        assert answer.status_code in (403, 404), (
            f"GET {path} of B's object answered {answer.status_code}"
        )
    for path in _detail_actions(viewset, "post"):
        answer = client.post(f"{_detail_url(prefix, viewset, obj_b)}{path}/", {}, format="json")
        assert answer.status_code in (403, 404), (
            f"POST {path} on B's object answered {answer.status_code}"
        )
    for method in ("patch", "delete"):
        answer = getattr(client, method)(_detail_url(prefix, viewset, obj_b), {}, format="json")
        assert answer.status_code in (403, 404, 405), (
            f"{method} of B's object answered {answer.status_code}"
        )
    obj_b.refresh_from_db()  # still there

    for extra in viewset.get_extra_actions():
        if not extra.detail and "get" in extra.mapping:
            export = client.get(f"{_list_url(prefix)}{extra.url_path}/")
            assert export.status_code in (200, 400, 403), f"{extra.url_path}: {export.status_code}"
            body = export.content.decode(errors="replace")
            tenant_b = obj_b if prefix == "tenants" else obj_b.tenant
            for marker in (tenant_b.slug, tenant_b.name, str(tenant_b.entra_tenant_id)):
                assert marker not in body, f"{extra.url_path} leaks tenant B ({marker})"


@pytest.mark.parametrize(("prefix", "viewset"), ROUTES, ids=ROUTE_IDS)
def test_read_only_key_cannot_write(api, rows, key_a_read_only, prefix, viewset):
    obj_a, _ = rows(viewset)
    client = api.as_key(key_a_read_only)
    assert client.post(_list_url(prefix), {}, format="json").status_code in (403, 405)
    for method in ("patch", "delete"):
        answer = getattr(client, method)(_detail_url(prefix, viewset, obj_a), {}, format="json")
        assert answer.status_code in (403, 405)
    for path in _detail_actions(viewset, "post"):
        answer = client.post(f"{_detail_url(prefix, viewset, obj_a)}{path}/", {}, format="json")
        assert answer.status_code in (403, 405)
    obj_a.refresh_from_db()


@pytest.mark.parametrize(("prefix", "viewset"), ROUTES, ids=ROUTE_IDS)
def test_msp_key_sees_both_tenants(api, rows, msp_key, prefix, viewset):
    obj_a, obj_b = rows(viewset)
    seen = _lookups_in(api.as_key(msp_key).get(_list_url(prefix)), viewset)
    assert {_lookup(viewset, obj_a), _lookup(viewset, obj_b)} <= seen


# --- customer pages -------------------------------------------------------------------------


def _customer_pages(patterns=None, prefix=""):
    """(name, route, view class) of every page under /t/<slug>/, however deeply included."""
    for entry in portal_urls.customer_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from _customer_pages(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            view_class = getattr(entry.callback, "view_class", None)
            yield entry.name, prefix + str(entry.pattern), view_class


PAGES = list(_customer_pages())


def _page_url(name, view_class, tenant, obj=None):
    kwargs = {"slug": tenant.slug}
    if obj is not None:
        kwargs[getattr(view_class, "pk_url_kwarg", "pk")] = obj.pk
    return reverse(f"customer:{name}", kwargs=kwargs)


def _page_objects(view_class, route, tenant_a, tenant_b):
    if "<" not in route:
        return None, None
    model = view_class.model
    return make_for_tenant(model, tenant_a), make_for_tenant(model, tenant_b)


@pytest.mark.parametrize(("name", "route", "view_class"), PAGES, ids=[p[0] for p in PAGES])
def test_customer_pages_are_scoped(client, tenant_a, tenant_b, customer_a, name, route, view_class):
    obj_a, obj_b = _page_objects(view_class, route, tenant_a, tenant_b)
    own = _page_url(name, view_class, tenant_a, obj_a)
    other = _page_url(name, view_class, tenant_b, obj_b)

    anonymous = client.get(own)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))

    client.force_login(customer_a)
    assert client.get(own).status_code == 200
    assert client.get(other).status_code == 404
    if obj_b is not None:
        # A's slug with B's object: still nothing.
        assert client.get(_page_url(name, view_class, tenant_a, obj_b)).status_code == 404
    body = client.get(own).content.decode()
    assert tenant_b.name not in body and str(tenant_b.entra_tenant_id) not in body
