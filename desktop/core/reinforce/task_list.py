"""The built-in tasks, by the name the command line and the Reinforce tab use."""

from __future__ import annotations

from desktop.core.reinforce.add_numbers import AddNumbers
from desktop.core.reinforce.count_letters import CountLetters
from desktop.core.reinforce.sort_list import SortList
from desktop.core.reinforce.tasks import Task

TASKS: dict[str, Task] = {task.name: task for task in (CountLetters(), AddNumbers(), SortList())}
