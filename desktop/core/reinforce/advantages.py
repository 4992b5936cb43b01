"""How much better than its siblings each answer was: GRPO's group-relative advantage.

For each prompt the model answers K times; an answer's advantage is its reward minus the
mean reward of the K (DeepSeek's GRPO without the division by the spread, as nanochat's
REINFORCE). Better than the group: its tokens are made more likely; worse: less likely.
A group whose answers all scored the same has nothing to teach — every advantage is 0 —
and how often that happens is worth watching: all wrong means the task is too hard for
the model now, all right means it is learned.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

Rewards = npt.NDArray[np.floating[Any]]


def group_advantages(rewards: Rewards) -> Rewards:
    """`rewards` (groups, K) -> advantages (groups, K): each minus its group's mean."""
    rewards = np.asarray(rewards, dtype=np.float64)
    advantages: Rewards = rewards - rewards.mean(axis=1, keepdims=True)
    return advantages


def zero_signal_share(rewards: Rewards) -> float:
    """Share of groups in which every answer scored the same (no gradient from them)."""
    rewards = np.asarray(rewards, dtype=np.float64)
    same = np.ptp(rewards, axis=1) <= 1e-12
    return float(same.mean()) if len(same) else 0.0
