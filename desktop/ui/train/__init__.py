"""The Train tab: train a small model from scratch and watch it learn."""
