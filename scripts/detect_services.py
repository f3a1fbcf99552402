"""Print the database URL `make test` should use: DATABASE_URL if set, else the local
PostgreSQL when one answers on 127.0.0.1:5432 (so the suite runs on the real database
wherever there is one), else nothing (the embedded SQLite default)."""

import socket
import sys

LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/portal"


def postgres_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            pass
    except OSError:
        return False
    try:
        import psycopg

        psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=2).close()
    except Exception:
        return False
    return True


if __name__ == "__main__":
    if sys.argv[1:] == ["database-url"]:
        print(LOCAL_POSTGRES if postgres_answers() else "")
    else:
        sys.exit("usage: detect_services.py database-url")
