-- Coaches and organisations: organisations with members and expiring invitations, a
-- candidate's shares with a coach or an organisation (one session, or all of them), coach
-- notes on a session's timeline, and an audit log.

CREATE TABLE organisations (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE org_members (
    org_id     uuid        NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text        NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    joined_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, user_id)
);

CREATE INDEX org_members_user_id_idx ON org_members (user_id);

-- An invitation by link: the link carries a random token, this row keeps only its hash.
CREATE TABLE org_invites (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       uuid        NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    role         text        NOT NULL CHECK (role IN ('admin', 'member')),
    token_hash   bytea       NOT NULL UNIQUE,
    created_by   uuid        REFERENCES users (id) ON DELETE SET NULL,
    expires_at   timestamptz NOT NULL,
    accepted_by  uuid        REFERENCES users (id) ON DELETE SET NULL,
    accepted_at  timestamptz,
    revoked_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX org_invites_org_id_idx ON org_invites (org_id);

-- A candidate's share with one coach (coach_id) or with an organisation (org_id, seen by its
-- owners and admins), of one session (session_id) or of all the candidate's sessions (NULL).
CREATE TABLE coach_shares (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id  uuid        REFERENCES sessions (id) ON DELETE CASCADE,
    coach_id    uuid        REFERENCES users (id) ON DELETE CASCADE,
    org_id      uuid        REFERENCES organisations (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    CHECK ((coach_id IS NULL) <> (org_id IS NULL)),
    CHECK (coach_id IS NULL OR coach_id <> owner_id)
);

CREATE INDEX coach_shares_owner_id_idx ON coach_shares (owner_id);
CREATE INDEX coach_shares_coach_id_idx ON coach_shares (coach_id) WHERE coach_id IS NOT NULL;
CREATE INDEX coach_shares_org_id_idx ON coach_shares (org_id) WHERE org_id IS NOT NULL;
CREATE INDEX coach_shares_session_id_idx ON coach_shares (session_id) WHERE session_id IS NOT NULL;

-- A coach's note on a moment of a session (milliseconds from the session's start). The
-- candidate can hide it (hidden_at) or delete it.
CREATE TABLE coach_notes (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id  uuid        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    author_id   uuid        REFERENCES users (id) ON DELETE SET NULL,
    author_name text        NOT NULL CHECK (length(author_name) BETWEEN 1 AND 200),
    t_ms        integer     NOT NULL CHECK (t_ms >= 0),
    body        text        NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
    hidden_at   timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX coach_notes_session_id_idx ON coach_notes (session_id, t_ms);

-- Sign-ins, shares, revokes, coach joins, exports and deletions. A row goes with the account
-- it is about (subject_user_id); the organisation's rows go with the organisation. session_id
-- has no foreign key so that a session's deletion can itself be logged.
CREATE TABLE audit_log (
    id              bigserial   PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    action          text        NOT NULL,
    actor_id        uuid        REFERENCES users (id) ON DELETE SET NULL,
    subject_user_id uuid        REFERENCES users (id) ON DELETE CASCADE,
    org_id          uuid        REFERENCES organisations (id) ON DELETE CASCADE,
    session_id      uuid,
    detail          jsonb       NOT NULL DEFAULT '{}'::jsonb
);

CREATE INDEX audit_log_subject_idx ON audit_log (subject_user_id, at DESC);
CREATE INDEX audit_log_org_idx ON audit_log (org_id, at DESC) WHERE org_id IS NOT NULL;
