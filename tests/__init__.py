"""Greenroom tests; the tree mirrors the source tree."""
