-- The state replicas share so that ids resolve on each of them: the
-- responses kept for previous_response_id and GET /v1/responses/{id}, and
-- the index of videos behind GET /v1/videos with the ids deleted. owner is
-- the SHA-256 (hex) of the access key that made the row, body is JSON
-- (size its length in bytes, which bounds the conversation read back),
-- times are Unix milliseconds. Rows past expires_at are neither read nor
-- listed, and are purged in bounded batches.
CREATE TABLE responses (
    id         TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    parent_id  TEXT NOT NULL DEFAULT '',
    body       TEXT NOT NULL,
    size       BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX responses_expires_at ON responses (expires_at);
-- A video deleted keeps its row, with deleted_at set, until expires_at, so
-- that its id answers 404 everywhere. body is '' for a video deleted
-- without having been indexed.
CREATE TABLE videos (
    id         TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    body       TEXT NOT NULL,
    deleted_at BIGINT,
    expires_at BIGINT NOT NULL
);
CREATE INDEX videos_owner_created ON videos (owner, created_at, id);
CREATE INDEX videos_expires_at ON videos (expires_at);
