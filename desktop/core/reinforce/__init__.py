"""Reinforcement learning: tasks a program can check, RL on them, and RLHF."""
