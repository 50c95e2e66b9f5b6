"""Lightning training for rnnzoo task models: one ``TrainingModule`` that asks each model's task for its objective."""

from rnnzoo.training.module import OPTIMIZERS, TrainingModule, build_task_model

#: the name this class had up to rnnzoo 0.1 (one name per idea: "task" is the task key and its package); kept so that
#: existing scripts and notebooks keep working
RecurrentTask = TrainingModule

__all__ = ["OPTIMIZERS", "TrainingModule", "build_task_model"]
