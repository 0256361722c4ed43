-- A panel interview: the personas who interview together, the lead (sessions.persona) first.
-- Empty for a session with one interviewer.

ALTER TABLE sessions ADD COLUMN panel text[] NOT NULL DEFAULT '{}';

ALTER TABLE sessions ADD CONSTRAINT sessions_panel_size
    CHECK (cardinality(panel) = 0 OR (cardinality(panel) BETWEEN 2 AND 3 AND panel[1] = persona));
