-- Greenroom's first schema: users, interview templates, sessions and what was said in them.

CREATE TABLE users (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email        text NOT NULL UNIQUE,
    display_name text,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE interview_templates (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name         text NOT NULL,
    role_track   text NOT NULL,
    round_type   text NOT NULL,
    difficulty   text NOT NULL,
    duration_min integer NOT NULL CHECK (duration_min IN (10, 20, 30)),
    persona      text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sessions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    template_id     uuid REFERENCES interview_templates (id) ON DELETE SET NULL,
    role_track      text NOT NULL,
    round_type      text NOT NULL,
    difficulty      text NOT NULL,
    duration_min    integer NOT NULL CHECK (duration_min IN (10, 20, 30)),
    persona         text NOT NULL,
    status          text NOT NULL DEFAULT 'scheduled'
                    CHECK (status IN ('scheduled', 'live', 'completed', 'failed', 'abandoned')),
    consent_version text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    ended_at        timestamptz,
    end_reason      text
);

CREATE INDEX sessions_user_id_created_at_idx ON sessions (user_id, created_at DESC);
CREATE INDEX sessions_template_id_idx ON sessions (template_id) WHERE template_id IS NOT NULL;

CREATE TABLE questions (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id       uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seq              integer NOT NULL,
    text             text NOT NULL,
    source           text NOT NULL CHECK (source IN ('bank', 'follow_up')),
    bank_question_id text,
    persona          text NOT NULL,
    asked_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (session_id, seq)
);

-- words: [{"w": str, "start": float, "end": float, "p": float}], seconds from started_at.
CREATE TABLE responses (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id  uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    question_id uuid REFERENCES questions (id) ON DELETE SET NULL,
    transcript  text NOT NULL,
    started_at  timestamptz NOT NULL,
    ended_at    timestamptz,
    words       jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(words) = 'array')
);

CREATE INDEX responses_session_id_started_at_idx ON responses (session_id, started_at);
CREATE INDEX responses_question_id_idx ON responses (question_id) WHERE question_id IS NOT NULL;

CREATE TABLE turn_latency (
    id             bigserial PRIMARY KEY,
    session_id     uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    turn_seq       integer NOT NULL,
    speech_end_at  timestamptz NOT NULL,
    first_audio_at timestamptz NOT NULL,
    latency_ms     real NOT NULL,
    stt_ms         real,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX turn_latency_session_id_turn_seq_idx ON turn_latency (session_id, turn_seq);
