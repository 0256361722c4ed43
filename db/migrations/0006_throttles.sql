-- Throttle counters, shared by every process of a deployment (api/throttle.py, db/throttles.py).
-- A key is an HMAC-SHA256 of an account's email and/or a client address: never the email or the
-- address itself. A row past expires_at counts for nothing and is deleted by the retention sweep.

CREATE TABLE throttles (
    scope         text NOT NULL,
    key           bytea NOT NULL,
    hits          integer NOT NULL DEFAULT 0,
    -- Backoff: no further attempt is admitted before this.
    blocked_until timestamptz,
    expires_at    timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE INDEX throttles_expires_at_idx ON throttles (expires_at);
