"""Lightning training for rnnzoo task models: one ``RecurrentTask`` with a small strategy per task."""

from rnnzoo.tasks.module import OPTIMIZERS, STRATEGIES, RecurrentTask, build_task_model

__all__ = ["OPTIMIZERS", "STRATEGIES", "RecurrentTask", "build_task_model"]
