"""Directory reads the portal needs: `users` (organization, users, drives, roles),
`groups`, `sites`, `applications` (service principals and granted permissions)."""
