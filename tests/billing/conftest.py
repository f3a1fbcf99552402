import pytest


@pytest.fixture(autouse=True)
def _no_broker_pool_left_behind():
    """Billing tests enqueue eager tasks, which open kombu's global producer pool for the
    broker URL. tests/services.celery_broker() later force-closes that pool but leaves it
    registered, so a test after it that publishes to the same URL would get "Acquire on
    closed pool". Leave no pool behind (kombu.pools.reset() closes and forgets them all)."""
    yield
    from kombu import pools

    from portal.celery import app

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None
