from tests.fixtures.emulator import emulated_tenant, emulator  # noqa: F401 - fixtures
