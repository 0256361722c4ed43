-- Usage of the seeded question bank: how often each question was asked and how its answers
-- scored. question_id is the bank's slug (agent/data/questions.json); the bank is a file, so it
-- is not a foreign key. The average score is score_sum / times_scored.

CREATE TABLE question_stats (
    question_id  text        PRIMARY KEY,
    times_asked  integer     NOT NULL DEFAULT 0 CHECK (times_asked >= 0),
    times_scored integer     NOT NULL DEFAULT 0 CHECK (times_scored >= 0),
    score_sum    real        NOT NULL DEFAULT 0,
    updated_at   timestamptz
);
