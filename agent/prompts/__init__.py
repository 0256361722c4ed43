"""Versioned prompt files for the LLM interviewer (interviewer-<version>.md)."""
