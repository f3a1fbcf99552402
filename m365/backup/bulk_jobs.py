"""Bulk addition jobs (reference section 2.3): add units by site URL or email address
without resolving ids first, or by many ids at once."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from m365.backup.models import BulkAdditionJob
from m365.backup.workloads import PREFER_ALL_ENUMS, Workload, backup_path, names
from m365.graph import GraphClient


def create_bulk_addition_job(
    graph: GraphClient,
    *,
    workload: Workload,
    policy_id: str,
    display_name: str,
    ids: Sequence[str] = (),
    names_or_urls: Sequence[str] = (),
) -> BulkAdditionJob:
    """`ids`: site ids or user object ids; `names_or_urls`: site web URLs (SharePoint) or
    email addresses (Exchange, OneDrive). The job runs `active` → `completed[WithErrors]`."""
    if not ids and not names_or_urls:
        raise ValueError("a bulk addition job needs ids or names")
    table = names(workload)
    body: dict[str, Any] = {"displayName": display_name}
    if ids:
        body[table.bulk_id_field] = list(ids)
    if names_or_urls:
        body[table.bulk_name_field] = list(names_or_urls)
    answer = graph.post(
        backup_path(table.policies, policy_id, table.bulk_jobs), json=body, headers=PREFER_ALL_ENUMS
    ).json_object()
    return BulkAdditionJob.from_graph(answer, workload)


def get_bulk_addition_job(
    graph: GraphClient, *, workload: Workload, job_id: str, policy_id: str | None = None
) -> BulkAdditionJob:
    body = graph.get(_job_path(workload, job_id, policy_id), headers=PREFER_ALL_ENUMS).json_object()
    return BulkAdditionJob.from_graph(body, workload)


def iter_bulk_addition_jobs(
    graph: GraphClient, *, workload: Workload, policy_id: str | None = None
) -> Iterator[BulkAdditionJob]:
    table = names(workload)
    path = (
        backup_path(table.policies, policy_id, table.bulk_jobs)
        if policy_id
        else backup_path(table.bulk_jobs)
    )
    for item in graph.iter_items(path, headers=PREFER_ALL_ENUMS):
        yield BulkAdditionJob.from_graph(item, workload)


def delete_bulk_addition_job(
    graph: GraphClient, *, workload: Workload, job_id: str, policy_id: str | None = None
) -> None:
    graph.delete(_job_path(workload, job_id, policy_id))


def _job_path(workload: Workload, job_id: str, policy_id: str | None) -> str:
    """Under the policy when known; the tenant-wide path is documented too (SDK paths)."""
    table = names(workload)
    if policy_id:
        return backup_path(table.policies, policy_id, table.bulk_jobs, job_id)
    return backup_path(table.bulk_jobs, job_id)
