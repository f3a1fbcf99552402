"""Running the emulator from tests and benches, and driving it.

```python
with run_emulator() as emu:          # a subprocess on a free port, in a temporary state dir
    emu.control.register_app(APP_ID, display_name=..., secret=..., owner_tenant_id=...)
    tenant = emu.control.create_tenant(domain="contoso.example", seed=1, users=50)
    admin_consent(emu, tenant.id, APP_ID, redirect_uri, tenant.admin)   # the real HTML flow
    emu.restart()                    # same port, same state dir
```

`EmulatorControl` is a thin typed client of the control API (`/_emulator/`). The flow
helpers (`admin_consent`, `authorize`, `client_credentials_token`) drive the identity
endpoints over HTTPS exactly as a browser or a client library would.
"""

from __future__ import annotations

from .control import DirectoryUser, EmulatorControl, EmulatorControlError, TenantInfo, trust
from .flows import (
    FlowResult,
    Pkce,
    admin_consent,
    authorize,
    browser_flow,
    client_credentials_token,
    redeem_code,
    refresh,
)
from .manifest import SEED_PERMISSIONS, seed_required_resource_access
from .runner import PROJECT_ROOT, EmulatorAt, RunningEmulator, run_emulator

__all__ = [
    "PROJECT_ROOT",
    "SEED_PERMISSIONS",
    "DirectoryUser",
    "EmulatorAt",
    "EmulatorControl",
    "EmulatorControlError",
    "FlowResult",
    "Pkce",
    "RunningEmulator",
    "TenantInfo",
    "admin_consent",
    "authorize",
    "browser_flow",
    "client_credentials_token",
    "redeem_code",
    "refresh",
    "run_emulator",
    "seed_required_resource_access",
    "trust",
]
