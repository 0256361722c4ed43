"""Numbered plain-SQL migrations, applied in order by db.migrate (a package so the .sql files ship)."""
