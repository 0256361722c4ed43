-- Delivery signals: frame-level face samples and prosody windows (about 10 per second each
-- per candidate), sparse speech events, and per-session counters of what the consumer saw.
-- t_ms is milliseconds since the session's media start. Rows are narrow (real, smallint) and
-- keyed (session_id, t_ms) so a timeline is one index range scan; deleting a session deletes
-- its signals (ON DELETE CASCADE). Columns are ordered to avoid alignment padding.

CREATE TABLE face_samples (
    session_id     uuid     NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    t_ms           integer  NOT NULL CHECK (t_ms >= 0),
    face_present   boolean  NOT NULL,
    blink          boolean,
    num_faces      smallint NOT NULL DEFAULT 0 CHECK (num_faces >= 0),
    -- Head pose in degrees; NULL when no face was found in the frame.
    yaw            real,
    pitch          real,
    roll           real,
    -- Scores in 0..1.
    gaze_on_camera real,
    eye_open       real,
    smile          real,
    brow_raise     real,
    -- Steadiness of the head over the last frames, and how trustworthy this sample is.
    stability      real,
    quality        real,
    PRIMARY KEY (session_id, t_ms)
);

CREATE TABLE prosody_windows (
    session_id    uuid    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    t_ms          integer NOT NULL CHECK (t_ms >= 0),
    loudness_dbfs real    NOT NULL,
    -- Pitch of the window; NULL when unvoiced or not tracked.
    f0_hz         real,
    f0_confidence real,
    voiced        boolean NOT NULL,
    PRIMARY KEY (session_id, t_ms)
);

CREATE TABLE speech_events (
    id          bigserial PRIMARY KEY,
    session_id  uuid    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    t_ms        integer NOT NULL CHECK (t_ms >= 0),
    kind        text    NOT NULL
                CHECK (kind IN ('pause', 'filler', 'wpm', 'response_latency', 'nudge')),
    duration_ms integer,
    value       real,
    label       text
);

-- One event of a kind (and label) per session and millisecond. This natural key is what makes
-- replaying a spooled batch idempotent, and its (session_id, t_ms) prefix serves timelines.
CREATE UNIQUE INDEX speech_events_session_id_t_ms_kind_label_key
    ON speech_events (session_id, t_ms, kind, coalesce(label, ''));

CREATE TABLE signal_stats (
    session_id      uuid        PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    frames_received bigint      NOT NULL DEFAULT 0,
    frames_analysed bigint      NOT NULL DEFAULT 0,
    frames_dropped  bigint      NOT NULL DEFAULT 0,
    audio_windows   bigint      NOT NULL DEFAULT 0,
    rows_written    bigint      NOT NULL DEFAULT 0,
    rows_spooled    bigint      NOT NULL DEFAULT 0,
    rows_replayed   bigint      NOT NULL DEFAULT 0,
    rows_dropped    bigint      NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
