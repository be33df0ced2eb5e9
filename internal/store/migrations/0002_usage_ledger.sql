-- The usage ledger: one row per request that ran (or tried to run) fal
-- work. cost_micros is NULL when the model's price is unknown.
CREATE TABLE usage_ledger (
    ts              BIGINT NOT NULL,
    key_id          TEXT NOT NULL,
    key_name        TEXT NOT NULL,
    alias           TEXT NOT NULL,
    endpoint        TEXT NOT NULL,
    fal_request_ids TEXT NOT NULL DEFAULT '',
    units           DOUBLE PRECISION NOT NULL DEFAULT 0,
    unit            TEXT NOT NULL DEFAULT '',
    cost_micros     BIGINT,
    status          INTEGER NOT NULL,
    latency_ms      DOUBLE PRECISION NOT NULL,
    request_id      TEXT NOT NULL
);
CREATE INDEX usage_ledger_key_ts ON usage_ledger (key_id, ts);
CREATE INDEX usage_ledger_ts ON usage_ledger (ts);
