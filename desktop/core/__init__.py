"""Qt-free logic. Nothing in this package may import Qt (a test enforces it)."""
