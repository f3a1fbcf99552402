"""Writes and business rules of the backups app, one module per subject."""
