-- The ids of the LiveKit webhook events the API has applied (api/livekit_webhook.py): one seen
-- again is a replay and is refused, whichever process it reaches. Ids are kept a little longer
-- than the replay window; an event older than the window is refused by its age alone.

CREATE TABLE livekit_webhook_events (
    event_id    text PRIMARY KEY,
    event       text NOT NULL,
    created_at  timestamptz NOT NULL,  -- when LiveKit made the event (its created_at)
    received_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX livekit_webhook_events_created_at_idx ON livekit_webhook_events (created_at);
