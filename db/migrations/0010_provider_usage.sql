-- Per session and provider, what the interview used: language-model tokens in and out,
-- characters synthesised, seconds of audio transcribed. The interviewer adds to the row as it
-- goes; the session's API sums it into a `usage` object.

CREATE TABLE session_usage (
    session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    provider text NOT NULL,
    tokens_in bigint NOT NULL DEFAULT 0 CHECK (tokens_in >= 0),
    tokens_out bigint NOT NULL DEFAULT 0 CHECK (tokens_out >= 0),
    tts_characters bigint NOT NULL DEFAULT 0 CHECK (tts_characters >= 0),
    stt_audio_s double precision NOT NULL DEFAULT 0 CHECK (stt_audio_s >= 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, provider)
);
