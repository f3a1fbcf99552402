"""Microsoft Graph and identity client of the portal (no Django import anywhere in here).

- `config.GraphSettings`: the settings (built by the portal from Django settings).
- `identity`: OpenID discovery, tenant id from a domain, admin-consent URLs and callbacks.
- `auth`: app-only tokens per tenant (msal) and delegated tokens from a refresh token.
- `graph.GraphClient`: requests, paging, `$batch`, throttling, redirected downloads, stats.
- `errors`: typed errors (`GraphError` family, `AuthError` family) and `ErrorCode`.
- `directory`, `reports`, `backup`: typed operations returning frozen dataclasses.
- `emulator`: the local stand-in for Microsoft used in development and tests (not the client).
"""
