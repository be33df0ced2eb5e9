-- Virtual keys: the key itself is never stored, only its SHA-256 (hex).
-- Money is in micro-dollars and times in Unix milliseconds, so that
-- SQLite and Postgres store and sum them the same way.
CREATE TABLE virtual_keys (
    id             TEXT PRIMARY KEY,
    hash           TEXT NOT NULL UNIQUE,
    prefix         TEXT NOT NULL,
    name           TEXT NOT NULL,
    owner          TEXT NOT NULL DEFAULT '',
    models         TEXT NOT NULL DEFAULT '',
    rpm            INTEGER NOT NULL DEFAULT 0,
    max_concurrent INTEGER NOT NULL DEFAULT 0,
    budget_micros  BIGINT,
    budget_period  TEXT NOT NULL DEFAULT 'total',
    hard_stop      INTEGER NOT NULL DEFAULT 1,
    expires_at     BIGINT,
    enabled        INTEGER NOT NULL DEFAULT 1,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
