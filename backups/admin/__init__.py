"""MSP staff pages of the backups app: the backup service, jobs with live progress,
inventory and coverage, scopes, policies and units (with their errors), restore points,
restore history, and Graph health per tenant."""

from backups.admin import health, inventory, jobs, restores, service

__all__ = ["health", "inventory", "jobs", "restores", "service"]
