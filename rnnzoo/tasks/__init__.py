"""One package per task, each owning everything particular to it: the head model (with its raw-input methods),
the objective (loss + torchmetrics), the batch key its DataModule emits, its typed preprocessing, what ``inspect``
feeds it and its model-card tags. Generic code asks the model class found here, by the ``task`` key that
config.json stores. Adding a task: docs/add-a-task.md.
"""

from rnnzoo.tasks.base import Objective, Preprocessing, PreprocessingError, TaskModel
from rnnzoo.tasks.forecaster import Forecaster
from rnnzoo.tasks.language_model import LanguageModel
from rnnzoo.tasks.piano_roll import PianoRollModel
from rnnzoo.tasks.sequence_classifier import SequenceClassifier

#: task key (``model.task``, config.json's ``"task"``) -> the task's model class
TASKS: dict[str, type[TaskModel]] = {
    cls.task: cls for cls in (PianoRollModel, SequenceClassifier, LanguageModel, Forecaster)
}


def task_model_class(task: str) -> type[TaskModel]:
    """The model class of ``task``; an unknown key is an error listing the known ones."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; rnnzoo has {sorted(TASKS)}")
    return TASKS[task]


#: the former name of :func:`task_model_class`, kept so that existing code keeps working
get_task = task_model_class

__all__ = [
    "TASKS", "Forecaster", "LanguageModel", "Objective", "PianoRollModel", "Preprocessing", "PreprocessingError",
    "SequenceClassifier", "TaskModel", "task_model_class",
]
