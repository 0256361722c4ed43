"""Tests of what a probe of the running server found: each fails on the code before its fix."""
