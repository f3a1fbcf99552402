"""Which token permissions open which Graph routes.

Each tuple starts with Microsoft's least-privileged permission for the call and lists the
higher ones that also work. Backup permissions follow reference section 2.
"""

from __future__ import annotations

from .core import access

ORGANIZATION = access(
    "Organization.Read.All",
    "Directory.Read.All",
    "Organization.ReadWrite.All",
    "Directory.ReadWrite.All",
    "User.Read",
)
ME = access(
    "User.Read",
    "User.ReadWrite",
    "User.ReadBasic.All",
    "User.Read.All",
    "Directory.Read.All",
    app=False,
)
USERS = access(
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "User.ReadBasic.All",
)
MEMBER_OF = access(
    "User.Read.All",
    "GroupMember.Read.All",
    "Group.Read.All",
    "Directory.Read.All",
    "User.ReadWrite.All",
    "Directory.ReadWrite.All",
)
GROUPS = access(
    "GroupMember.Read.All",
    "Group.Read.All",
    "Group.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
)
DIRECTORY_ROLES = access(
    "RoleManagement.Read.Directory",
    "Directory.Read.All",
    "RoleManagement.ReadWrite.Directory",
    "Directory.ReadWrite.All",
)
SITES = access("Sites.Read.All", "Sites.ReadWrite.All", "Sites.Manage.All", "Sites.FullControl.All")
DRIVES = access(
    "Files.Read.All",
    "Files.ReadWrite.All",
    "Sites.Read.All",
    "Sites.ReadWrite.All",
    "Sites.Manage.All",
    "Sites.FullControl.All",
)
SERVICE_PRINCIPALS = access(
    "Application.Read.All",
    "Application.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
)
APP_ROLE_ASSIGNMENT_WRITE = access("AppRoleAssignment.ReadWrite.All", "Application.ReadWrite.All")
PERMISSION_GRANTS = access(
    "DelegatedPermissionGrant.Read.All",
    "Directory.Read.All",
    "DelegatedPermissionGrant.ReadWrite.All",
    "Directory.ReadWrite.All",
)
REPORTS = access("Reports.Read.All")

# Backup Storage (reference 2.1-2.5).
BACKUP_ROOT_READ = access("BackupRestore-Control.Read.All", "BackupRestore-Control.ReadWrite.All")
BACKUP_CONTROL = access("BackupRestore-Control.ReadWrite.All")
BACKUP_CONTROL_DELEGATED = access("BackupRestore-Control.ReadWrite.All", app=False)
BACKUP_CONFIG_READ = access(
    "BackupRestore-Configuration.Read.All", "BackupRestore-Configuration.ReadWrite.All"
)
BACKUP_CONFIG_WRITE = access("BackupRestore-Configuration.ReadWrite.All")
BACKUP_RESTORE = access("BackupRestore-Restore.ReadWrite.All")
# Reads also take Restore.Read.All, which the reference says exists (without its id).
BACKUP_RESTORE_READ = access(
    "BackupRestore-Restore.Read.All", "BackupRestore-Restore.ReadWrite.All"
)
BACKUP_SEARCH = access("BackupRestore-Search.Read.All")
