"""Reports on interview sessions: delivery and rubric scores, scorecards, timelines, progress, exports."""
