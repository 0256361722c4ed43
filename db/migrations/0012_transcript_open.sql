-- Set by the process running a session's interview from its start until its last writes are
-- stored: after the session has ended it may still store the last answers (each heard again
-- whole, agent/whole_answer.py). Until then the report says it is not final yet.

ALTER TABLE sessions ADD COLUMN transcript_open_at timestamptz;
