"""Scoring of interview answers: rubric dimensions by question category, offline and LLM evaluators."""
