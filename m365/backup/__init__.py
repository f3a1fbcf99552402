"""Microsoft Graph Backup Storage (`/solutions/backupRestore`): typed operations.

Modules: `service` (switch and controller apps), `policies`, `units`, `rules`, `bulk_jobs`,
`restore_points`, `restore_sessions`; shapes in `models`, enums in `enums`, the per-workload
names in `workloads`."""

from m365.backup.workloads import Workload

__all__ = ["Workload"]
