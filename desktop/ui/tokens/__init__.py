"""The Tokens tab: text the way a model sees it, one coloured span per token."""
