"""Placeholder replaced by the backup service model."""


def set_controller(tenant, app_id, display_name, now):
    raise NotImplementedError
