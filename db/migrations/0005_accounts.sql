-- Accounts with passwords and sign-in sessions; what a candidate chooses before an interview:
-- CV and job description text, consent details (delivery capture on/off, retention) and an
-- optional single question to practise.

ALTER TABLE users ADD COLUMN password_hash text;

CREATE TABLE auth_sessions (
    token_hash   bytea PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX auth_sessions_user_id_idx ON auth_sessions (user_id);
CREATE INDEX auth_sessions_expires_at_idx ON auth_sessions (expires_at);

ALTER TABLE sessions
    ADD COLUMN cv_text              text CHECK (length(cv_text) <= 20000),
    ADD COLUMN jd_text              text CHECK (length(jd_text) <= 20000),
    ADD COLUMN consented_at         timestamptz,
    ADD COLUMN capture_signals      boolean NOT NULL DEFAULT true,
    ADD COLUMN retention_days       integer CHECK (retention_days IS NULL OR retention_days > 0),
    ADD COLUMN retain_until         timestamptz,
    ADD COLUMN practice_question_id text;

CREATE INDEX sessions_retain_until_idx ON sessions (retain_until) WHERE retain_until IS NOT NULL;
