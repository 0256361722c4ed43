-- Reports: rubric scores per answer (computed once and kept, so a report is not re-scored on
-- every view), a per-session scorecard summary for progress views, exported files, and
-- shareable read-only links. Everything hangs off sessions and goes when a session is deleted.

CREATE TABLE answer_scores (
    id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id        uuid        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    question_id       uuid        NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    category          text        NOT NULL,
    overall           smallint    NOT NULL CHECK (overall BETWEEN 0 AND 100),
    -- [{"dimension": str, "score": int, "reason": str}]
    dimensions        jsonb       NOT NULL CHECK (jsonb_typeof(dimensions) = 'array'),
    evaluator         text        NOT NULL,
    fallback_reason   text,
    strengths         jsonb       NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(strengths) = 'array'),
    improvements      jsonb       NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(improvements) = 'array'),
    stronger_answer   text,
    factors           jsonb       NOT NULL DEFAULT '{}'::jsonb,
    -- How many responses the scored answer was made of: more arriving later means re-score.
    responses_scored  integer     NOT NULL CHECK (responses_scored >= 0),
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (question_id)
);

CREATE INDEX answer_scores_session_id_idx ON answer_scores (session_id);

-- The scorecard of an ended session, refreshed whenever its full report is built. Scores only:
-- the overall is recomputed from the dimensions with the weights in force when it is read.
CREATE TABLE session_scorecards (
    session_id      uuid        PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    -- {"communication": int|null, "composure": ..., "structure": ..., "relevance": ...}
    dimensions      jsonb       NOT NULL,
    -- {"pace": {"score": int|null, "value": float|null}, ...}
    delivery        jsonb       NOT NULL,
    -- {"behavioral": {"average": float, "answers": int}, ...}
    categories      jsonb       NOT NULL,
    -- {"situation": float, "result": float, ...}: rubric dimension averages over the answers
    rubric          jsonb       NOT NULL,
    answers_scored  integer     NOT NULL,
    computed_at     timestamptz NOT NULL DEFAULT now()
);

-- A PDF is rendered once and kept here (bounded in size); a CSV is streamed from the signal
-- tables at download time, so only its row is kept.
CREATE TABLE report_exports (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id  uuid        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    format      text        NOT NULL CHECK (format IN ('pdf', 'csv')),
    content     bytea,
    size_bytes  integer,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    CHECK ((format = 'pdf') = (content IS NOT NULL))
);

CREATE INDEX report_exports_session_id_idx ON report_exports (session_id);
CREATE INDEX report_exports_expires_at_idx ON report_exports (expires_at);

-- A read-only link to a session's report. The link's token is HMAC-signed over (id, expiry);
-- this row lets the owner revoke it, and deleting the session kills it.
CREATE TABLE report_shares (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id  uuid        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX report_shares_session_id_idx ON report_shares (session_id);
