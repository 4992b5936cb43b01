"""Widgets only. Each tab is a package or module here; nothing here runs a model."""
