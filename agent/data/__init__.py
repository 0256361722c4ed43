"""Data files shipped with the agent package (the seeded question bank)."""
