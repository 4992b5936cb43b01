"""The data folder: one SQLite database (conversations, preference pairs), its migrations and
checks, atomic files, locks, where things live."""
