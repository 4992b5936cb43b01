"""Prompts and replies: the request vocabulary, the three prompt modes, chat templates, context
fitting, stop strings, timing, how replies are shown."""
