-- A live session's last sign of life from the process holding its room, written every few
-- seconds. A live session whose heartbeat is older than the reconnect grace period has lost
-- its process (a crash, a kill) and its candidate did not come back: it is ended as abandoned.

ALTER TABLE sessions ADD COLUMN heartbeat_at timestamptz;

CREATE INDEX sessions_live_heartbeat_idx ON sessions (heartbeat_at) WHERE status = 'live';
