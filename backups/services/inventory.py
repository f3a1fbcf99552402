"""Inventory scans: what a tenant holds (mailboxes, OneDrive accounts, SharePoint sites,
Microsoft 365 groups, Teams and security groups) and how big it is.

Directory collections are streamed page by page (`$top` 999) and each page is written with
one bulk upsert (insert or update on tenant + kind + external id) in the transaction that
also saves the job's checkpoint: the next page link. A run that dies resumes from the page
after the last committed one; a page written twice is the same rows. Sizes come from the
usage reports (CSV, streamed), applied in batches by matching `size_key`.

Every row a scan writes gets the scan's start time as `last_seen_at`. When a collection has
been read to its end, rows of its kinds not seen by this scan are marked deleted (their
resource is gone from the tenant); a row seen again is undeleted by the upsert itself.

Mailboxes and OneDrives come from the users: a user with a mail address and a licence has a
user mailbox and a OneDrive; a disabled, unlicensed user with a mail address is a shared
mailbox (how Exchange Online represents one). Sites are the non-personal sites of
`getAllSites` (group and team sites included); OneDrive web URLs come from the OneDrive
usage report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from typing import Any

from django.db import transaction

from backups.choices import (
    GROUP_KINDS,
    KIND_WORKLOAD,
    JobKind,
    ResourceKind,
    ScopeMode,
)
from backups.conf import setting
from backups.models import ProtectionScope, Resource
from backups.services.bulk import bulk_set
from backups.services.jobs import Done, JobRun
from m365.directory.groups import GROUP_FIELDS
from m365.directory.models import Group, Site, User
from m365.directory.sites import SITE_FIELDS
from m365.directory.users import USER_FIELDS
from m365.errors import GraphBadRequest
from m365.graph import GraphClient, Page
from m365.reports import (
    ReportPeriod,
    iter_mailbox_usage,
    iter_onedrive_usage,
    iter_sharepoint_site_usage,
)
from tenants.graph import app_graph

MAILBOX_KINDS = (ResourceKind.USER_MAILBOX, ResourceKind.SHARED_MAILBOX)

# Steps of each scan kind, in order. "users:mail" writes mailboxes only, "users:drive"
# OneDrives only, "users" both (one pass over the directory for the two).
STEPS: dict[str, tuple[str, ...]] = {
    JobKind.SCAN_INVENTORY: (
        "users",
        "groups",
        "sites",
        "sizes_mailbox",
        "sizes_onedrive",
        "sizes_sites",
        "finalize",
    ),
    JobKind.SCAN_MAILBOXES: ("users:mail", "sizes_mailbox", "finalize"),
    JobKind.SCAN_ONEDRIVE: ("users:drive", "sizes_onedrive", "finalize"),
    JobKind.SCAN_SITES: ("sites", "sizes_sites", "finalize"),
    JobKind.SCAN_GROUPS: ("groups", "finalize"),
    JobKind.COLLECT_SIZES: ("sizes_mailbox", "sizes_onedrive", "sizes_sites"),
}
# Kinds whose disappearance each scan kind may conclude (it read their whole collection).
KINDS_COVERED: dict[str, tuple[str, ...]] = {
    JobKind.SCAN_INVENTORY: tuple(ResourceKind.values),
    JobKind.SCAN_MAILBOXES: MAILBOX_KINDS,
    JobKind.SCAN_ONEDRIVE: (ResourceKind.ONEDRIVE,),
    JobKind.SCAN_SITES: (ResourceKind.SITE,),
    JobKind.SCAN_GROUPS: GROUP_KINDS,
}
STEP_LABELS = {
    "users": "Reading users (mailboxes and OneDrive accounts)",
    "users:mail": "Reading users (mailboxes)",
    "users:drive": "Reading users (OneDrive accounts)",
    "groups": "Reading groups and Teams",
    "sites": "Reading SharePoint sites",
    "sizes_mailbox": "Reading mailbox sizes (usage report)",
    "sizes_onedrive": "Reading OneDrive sizes (usage report)",
    "sizes_sites": "Reading site sizes (usage report)",
    "finalize": "Marking resources gone from the tenant",
}
USER_UPDATE_FIELDS = [
    "workload",
    "display_name",
    "email",
    "owner_external_id",
    "size_key",
    "last_seen_at",
    "deleted_at",
]
SITE_UPDATE_FIELDS = [
    "workload",
    "display_name",
    "web_url",
    "size_key",
    "last_seen_at",
    "deleted_at",
]
GROUP_UPDATE_FIELDS = ["workload", "display_name", "email", "last_seen_at", "deleted_at"]
EVENTUAL = {"ConsistencyLevel": "eventual"}


def run_scan(run: JobRun) -> Done:
    """Runner of the scan kinds and of `collect_sizes` (see STEPS)."""
    job = run.job
    steps = STEPS[job.kind]
    checkpoint = run.checkpoint
    if "scan_at" not in checkpoint:
        checkpoint.update(
            scan_at=run.now().isoformat(),
            step=steps[0],
            next_link=None,
            done=[],
            counts={},
            totals={},
        )
        with transaction.atomic():
            run.commit(
                checkpoint=checkpoint, done=0, total_known=False, phase=STEP_LABELS[steps[0]]
            )
    scan_at = datetime.fromisoformat(checkpoint["scan_at"])
    with app_graph(job.tenant) as graph:
        for step in steps:
            if step in checkpoint["done"]:
                continue
            if checkpoint["step"] != step:
                checkpoint.update(step=step, next_link=None)
                with transaction.atomic():
                    run.commit(checkpoint=checkpoint, phase=STEP_LABELS[step])
            STEP_RUNNERS[step.split(":")[0]](run, graph, step, scan_at)
            checkpoint["done"].append(step)
            with transaction.atomic():
                run.commit(checkpoint=checkpoint)
    counts = checkpoint.get("counts", {})
    outcome = checkpoint.get("outcome", {})
    job.summary = {**counts, **outcome}
    then = None
    if outcome.get("new") or outcome.get("disappeared"):
        then = lambda: _apply_scope_after_scan(job)  # noqa: E731
    return Done(message=_summary_text(job.kind, job.summary), then=then)


# --- directory steps ----------------------------------------------------------------------


def _users_step(run: JobRun, graph: GraphClient, step: str, scan_at: datetime) -> None:
    mailboxes = step in ("users", "users:mail")
    drives = step in ("users", "users:drive")
    params = {
        "$select": ",".join(USER_FIELDS),
        "$top": str(setting("BACKUP_SCAN_PAGE_SIZE")),
        "$count": "true",
    }
    tenant_id = run.job.tenant_id

    def rows(items: list[dict[str, Any]]) -> list[Resource]:
        out = []
        for user in map(User.from_graph, items):
            out.extend(_user_resources(tenant_id, user, scan_at, mailboxes, drives))
        return out

    _directory_step(run, graph, step, "/users", params, rows, USER_UPDATE_FIELDS, "users")


def _user_resources(
    tenant_id: int, user: User, scan_at: datetime, mailboxes: bool, drives: bool
) -> Iterator[Resource]:
    if not user.id or user.user_type.lower() == "guest":
        return
    upn = user.user_principal_name.lower()
    common = {
        "tenant_id": tenant_id,
        "external_id": user.id,
        "display_name": user.display_name[:300],
        "owner_external_id": user.id,
        "size_key": upn,
        "first_seen_at": scan_at,
        "last_seen_at": scan_at,
        "deleted_at": None,
    }
    if mailboxes and user.mail and (user.is_licensed or user.account_enabled is False):
        kind = ResourceKind.USER_MAILBOX if user.is_licensed else ResourceKind.SHARED_MAILBOX
        yield Resource(kind=kind, workload=KIND_WORKLOAD[kind], email=user.mail, **common)
    if drives and user.is_licensed:
        yield Resource(
            kind=ResourceKind.ONEDRIVE,
            workload=KIND_WORKLOAD[ResourceKind.ONEDRIVE],
            email=user.user_principal_name,
            **common,
        )


def _groups_step(run: JobRun, graph: GraphClient, step: str, scan_at: datetime) -> None:
    params = {
        "$select": ",".join(GROUP_FIELDS),
        "$top": str(setting("BACKUP_SCAN_PAGE_SIZE")),
        "$count": "true",
    }
    tenant_id = run.job.tenant_id

    def rows(items: list[dict[str, Any]]) -> list[Resource]:
        out = []
        for group in map(Group.from_graph, items):
            if group.is_microsoft_365:
                kind = ResourceKind.TEAM if group.is_team else ResourceKind.GROUP
            elif group.security_enabled:
                kind = ResourceKind.SECURITY_GROUP
            else:
                continue  # distribution lists: nothing to protect or to scope by
            out.append(
                Resource(
                    tenant_id=tenant_id,
                    kind=kind,
                    workload="",
                    external_id=group.id,
                    display_name=group.display_name[:300],
                    email=group.mail,
                    first_seen_at=scan_at,
                    last_seen_at=scan_at,
                    deleted_at=None,
                )
            )
        return out

    _directory_step(run, graph, step, "/groups", params, rows, GROUP_UPDATE_FIELDS, "groups")


def _sites_step(run: JobRun, graph: GraphClient, step: str, scan_at: datetime) -> None:
    params = {"$select": ",".join(SITE_FIELDS), "$top": str(setting("BACKUP_SCAN_PAGE_SIZE"))}
    tenant_id = run.job.tenant_id

    def rows(items: list[dict[str, Any]]) -> list[Resource]:
        out = []
        for site in map(Site.from_graph, items):
            if not site.id or site.is_personal_site or "-my.sharepoint." in site.web_url.lower():
                continue  # OneDrives are protected as OneDrive accounts, not as sites
            parts = site.id.split(",")
            out.append(
                Resource(
                    tenant_id=tenant_id,
                    kind=ResourceKind.SITE,
                    workload="sharepoint",
                    external_id=site.id,
                    display_name=(site.display_name or site.name)[:300],
                    web_url=site.web_url[:1000],
                    size_key=parts[1].lower() if len(parts) == 3 else "",
                    first_seen_at=scan_at,
                    last_seen_at=scan_at,
                    deleted_at=None,
                )
            )
        return out

    _directory_step(
        run,
        graph,
        step,
        "/sites/getAllSites",
        params,
        rows,
        SITE_UPDATE_FIELDS,
        "sites",
        headers=None,
    )


def _directory_step(
    run: JobRun,
    graph: GraphClient,
    step: str,
    path: str,
    params: dict[str, str],
    to_rows: Callable[[list[dict[str, Any]]], list[Resource]],
    update_fields: list[str],
    counter: str,
    headers: dict[str, str] | None = EVENTUAL,
) -> None:
    checkpoint = run.checkpoint
    counts = checkpoint.setdefault("counts", {})
    totals = checkpoint.setdefault("totals", {})
    resume = checkpoint.get("next_link")
    if not resume:
        counts[counter] = 0
    batch = setting("BACKUP_DB_BATCH_SIZE")
    for page in _pages(run, graph, path, params, headers, resume, counts, counter):
        rows = to_rows(page.items)
        with transaction.atomic():
            if rows:
                Resource.objects.bulk_create(
                    rows,
                    batch_size=batch,
                    update_conflicts=True,
                    unique_fields=["tenant", "kind", "external_id"],
                    update_fields=update_fields,
                )
            counts[counter] = counts.get(counter, 0) + len(page.items)
            if page.count is not None:
                totals[counter] = page.count
            checkpoint["next_link"] = page.next_link
            run.commit(
                checkpoint=checkpoint,
                done=sum(counts.get(k, 0) for k in ("users", "groups", "sites")),
                total=_total(counts, totals),
                phase=f"{STEP_LABELS[step]}: {counts[counter]:,}",
            )
    if (
        counts.get(counter, 0) == 0
        and Resource.objects.filter(
            tenant_id=run.job.tenant_id, kind__in=_kinds_of(step), deleted_at__isnull=True
        ).exists()
    ):
        # An empty answer where there were resources is more likely a fault than a tenant
        # emptied overnight: keep the rows rather than mark them all deleted.
        checkpoint.setdefault("keep", []).extend(_kinds_of(step))
        run.log(
            f"{path} returned nothing; resources of this kind are kept as they were.", "warning"
        )


def _pages(
    run: JobRun,
    graph: GraphClient,
    path: str,
    params: dict[str, str],
    headers: dict[str, str] | None,
    resume: str | None,
    counts: dict[str, int],
    counter: str,
) -> Iterator[Page]:
    """The collection's pages, from the checkpointed next link when there is one. A link
    Microsoft no longer accepts restarts the collection from its first page."""
    if resume:
        try:
            yield from graph.iter_pages(resume, headers=headers)
            return
        except GraphBadRequest as exc:
            run.log(
                f"Could not resume {path} from its saved page ({exc.code}); reading it again.",
                "warning",
            )
            counts[counter] = 0
    yield from graph.iter_pages(path, params, headers=headers)


def _total(counts: dict[str, int], totals: dict[str, int]) -> int | None:
    known = [
        totals.get(k, counts.get(k, 0))
        for k in ("users", "groups", "sites")
        if k in totals or k in counts
    ]
    return sum(known) if known else None


def _kinds_of(step: str) -> tuple[str, ...]:
    base = step.split(":")[0]
    if base == "users":
        if step == "users:mail":
            return MAILBOX_KINDS
        if step == "users:drive":
            return (ResourceKind.ONEDRIVE,)
        return (*MAILBOX_KINDS, ResourceKind.ONEDRIVE)
    if base == "groups":
        return GROUP_KINDS
    return (ResourceKind.SITE,)


# --- sizes from the usage reports ---------------------------------------------------------


def _sizes_mailbox(run: JobRun, graph: GraphClient, step: str, scan_at: datetime) -> None:
    rows = (
        (
            row.user_principal_name.lower(),
            (row.storage_used_bytes or 0) + (row.deleted_item_size_bytes or 0),
            row.report_refresh_date,
            None,
        )
        for row in iter_mailbox_usage(graph, period=ReportPeriod.D7)
        if row.user_principal_name
    )
    _apply_sizes(run, rows, MAILBOX_KINDS, "mailbox_sizes")


def _sizes_onedrive(run: JobRun, graph: GraphClient, step: str, scan_at: datetime) -> None:
    rows = (
        (
            row.owner_principal_name.lower(),
            row.storage_used_bytes or 0,
            row.report_refresh_date,
            row.site_url or None,
        )
        for row in iter_onedrive_usage(graph, period=ReportPeriod.D7)
        if row.owner_principal_name and not row.is_deleted
    )
    _apply_sizes(run, rows, (ResourceKind.ONEDRIVE,), "onedrive_sizes")


def _sizes_sites(run: JobRun, graph: GraphClient, step: str, scan_at: datetime) -> None:
    rows = (
        (row.site_id.lower(), row.storage_used_bytes or 0, row.report_refresh_date, None)
        for row in iter_sharepoint_site_usage(graph, period=ReportPeriod.D7)
        if row.site_id
    )
    _apply_sizes(run, rows, (ResourceKind.SITE,), "site_sizes")


def _apply_sizes(
    run: JobRun,
    rows: Iterable[tuple[str, int, date | None, str | None]],
    kinds: tuple[str, ...],
    counter: str,
) -> None:
    """Set sizes (and OneDrive URLs) in batches: one read and one bulk update per batch."""
    counts = run.checkpoint.setdefault("counts", {})
    counts[counter] = 0
    batch_size = setting("BACKUP_DB_BATCH_SIZE")
    batch: dict[str, tuple[int, date | None, str | None]] = {}

    def flush() -> None:
        found = list(
            Resource.objects.filter(
                tenant_id=run.job.tenant_id, kind__in=kinds, size_key__in=list(batch)
            ).only("id", "size_key", "web_url")
        )
        fields = ["size_bytes", "size_reported_on"]
        for resource in found:
            size, day, url = batch[resource.size_key]
            resource.size_bytes, resource.size_reported_on = max(0, size), day
            if url:
                resource.web_url = url[:1000]
                if "web_url" not in fields:
                    fields.append("web_url")
        with transaction.atomic():
            if found:
                bulk_set(found, fields, batch_size=batch_size)
            counts[counter] += len(found)
            run.commit(
                checkpoint=run.checkpoint,
                phase=f"{STEP_LABELS[run.checkpoint['step']]}: {counts[counter]:,}",
            )
        batch.clear()

    for key, size, day, url in rows:
        batch[key] = (size, day, url)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()


# --- end of a scan ------------------------------------------------------------------------


def _finalize(run: JobRun, graph: GraphClient, step: str, scan_at: datetime) -> None:
    """Mark rows of the scanned kinds that this scan did not see as deleted (one update)."""
    job = run.job
    kinds = [k for k in KINDS_COVERED[job.kind] if k not in run.checkpoint.get("keep", [])]
    now = run.now()
    with transaction.atomic():
        gone = Resource.objects.filter(
            tenant_id=job.tenant_id,
            kind__in=kinds,
            deleted_at__isnull=True,
            last_seen_at__lt=scan_at,
        ).update(deleted_at=now)
        new = Resource.objects.filter(
            tenant_id=job.tenant_id, kind__in=kinds, first_seen_at=scan_at
        ).count()
        present = Resource.objects.filter(
            tenant_id=job.tenant_id, kind__in=kinds, deleted_at__isnull=True
        ).count()
        run.checkpoint["outcome"] = {"new": new, "disappeared": gone, "present": present}
        run.commit(checkpoint=run.checkpoint)


def _summary_text(kind: str, summary: dict[str, Any]) -> str:
    parts = [f"{summary[k]:,} {k}" for k in ("users", "groups", "sites") if k in summary]
    parts += [
        f"{summary[k]:,} {k.replace('_', ' ')} matched"
        for k in ("mailbox_sizes", "onedrive_sizes", "site_sizes")
        if k in summary
    ]
    if "present" in summary:
        parts.append(
            f"{summary['present']:,} resources present, {summary['new']:,} new, "
            f"{summary['disappeared']:,} gone from the tenant"
        )
    return "Read " + "; ".join(parts) + "." if parts else ""


def _apply_scope_after_scan(job) -> None:
    """New resources join protection right away where a scope says so."""
    from backups.services.protection import scope_application_start_if_needed

    scope_application_start_if_needed(tenant=job.tenant, reason=f"after scan {job.pk}")


def tenant_has_auto_scope(tenant_id: int) -> bool:
    return (
        ProtectionScope.objects.filter(tenant_id=tenant_id, auto_add_new=True)
        .exclude(mode=ScopeMode.NONE)
        .exists()
    )


STEP_RUNNERS: dict[str, Callable[[JobRun, GraphClient, str, datetime], None]] = {
    "users": _users_step,
    "groups": _groups_step,
    "sites": _sites_step,
    "sizes_mailbox": _sizes_mailbox,
    "sizes_onedrive": _sizes_onedrive,
    "sizes_sites": _sizes_sites,
    "finalize": _finalize,
}
