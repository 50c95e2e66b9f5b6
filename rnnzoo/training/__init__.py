"""Lightning training for rnnzoo task models: one ``RecurrentTask`` that asks each model's task for its objective."""

from rnnzoo.training.module import OPTIMIZERS, RecurrentTask, build_task_model

__all__ = ["OPTIMIZERS", "RecurrentTask", "build_task_model"]
