"""Registry of "make one row of this model for that tenant" functions.

The tenant-isolation suite walks every API route and customer page and needs, for each
model behind them, one row in tenant A and one in tenant B. Each app's `tests/<app>/factories.py`
registers its models here; a route whose model has no entry fails the suite with a message
saying so, which is how routes added later are covered without editing the suite.
"""

import importlib
import pkgutil
from collections.abc import Callable

from django.db import models

TenantRowMaker = Callable[[models.Model], models.Model]
FACTORIES: dict[type[models.Model], TenantRowMaker] = {}


def for_tenant(model: type[models.Model]):
    def decorate(maker: TenantRowMaker) -> TenantRowMaker:
        FACTORIES[model] = maker
        return maker

    return decorate


def load_all() -> dict[type[models.Model], TenantRowMaker]:
    import tests

    for module in pkgutil.iter_modules(tests.__path__):
        if module.ispkg:
            try:
                importlib.import_module(f"tests.{module.name}.factories")
            except ModuleNotFoundError as exc:
                if exc.name != f"tests.{module.name}.factories":
                    raise
    return FACTORIES


def make_for_tenant(model: type[models.Model], tenant) -> models.Model:
    load_all()
    try:
        maker = FACTORIES[model]
    except KeyError:
        raise AssertionError(
            f"No factory registered for {model.__name__}: add one with "
            f"@for_tenant({model.__name__}) in tests/<app>/factories.py"
        ) from None
    return maker(tenant)
