"""``compare``'s learning-rate (and, on request, hidden-size and dropout) search through Optuna, judged on
validation only.

One study per cell, in a database (``sqlite:///<out>/optuna.db`` by default; any SQLAlchemy URL such as
``postgresql://host/db`` lets several machines add trials to one study). The TPE sampler is seeded; a median rule
prunes a trial whose validation metric, after an epoch, is worse than the median of the completed trials' at that
epoch. Every trial trains the cell with the comparison's first seed and is an MLflow child run of the comparison's
parent run (role ``lr_search``), tagged with its study, number and final state (COMPLETE, PRUNED or FAIL).

Optuna is imported when a search starts, never with ``rnnzoo`` or ``rnnzoo.compare``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import lightning as L

from rnnzoo.compare.models import CellModel
from rnnzoo.compare.single_run import RunResult, TrainSettings, train_one
from rnnzoo.errors import RnnzooError

STUDY_TAG = "optuna.study"
TRIAL_TAG = "optuna.trial"
STATE_TAG = "optuna.state"
STUDY_ATTR = "rnnzoo.search"  # the study's user attribute: what its trials measured (checked when continuing one)


class StudyMismatchError(RnnzooError, ValueError):
    """A stored study cannot take this search's trials (another search space, or another direction)."""


class StudyStorageError(RnnzooError, ValueError):
    """The study database cannot be opened: a URL SQLAlchemy does not know, a missing driver, a file that is not
    an SQLite database, or a database server that does not answer."""


@dataclass(frozen=True)
class SearchSpace:
    """What to search and where the study lives.

    Args:
        n_trials: trials this process adds to each cell's study.
        lr_range: learning rates, sampled log-uniformly by TPE in ``[low, high]``.
        epochs: epochs per trial (None: the comparison's ``max_epochs``).
        size_range: also search the hidden size, as factors of the budget's parameter-matched size (``(0.5, 1.0)``:
            from half the matched size up to it, so no cell exceeds the budget); None: the matched size only.
        dropout_range: also search the model's ``dropout``, sampled uniformly by TPE in ``[low, high]`` with
            ``0 <= low <= high < 1``; the best trial's rate goes into the config of the cell's runs. What it drops
            is the task model's (the sequence classifier: its input and pooled state; the language model: its
            embeddings and outputs; the others only between stacked layers, so nothing at one layer). None: the
            model's own dropout, unsearched.
        storage: the study database URL; None: ``sqlite:///<out>/optuna.db``.
        study_name: the studies' name prefix (``<prefix>-<cell>``); None: ``<experiment>-<data>-<budget>``.
        seed: the TPE sampler's seed (None: the comparison's first seed). Give machines sharing a study
            different seeds, or their first random trials coincide.
    """

    n_trials: int
    lr_range: tuple[float, float] = (1e-4, 3e-2)
    epochs: int | None = None
    size_range: tuple[float, float] | None = None
    storage: str | None = None
    study_name: str | None = None
    seed: int | None = None
    dropout_range: tuple[float, float] | None = None

    def __post_init__(self):
        low, high = self.lr_range
        if self.n_trials < 1 or not 0 < low <= high:
            raise ValueError(f"a search needs n_trials >= 1 and 0 < low <= high, got n_trials={self.n_trials}, "
                             f"lr_range={self.lr_range}; e.g. --lr-search 8 --lr-range 1e-4 3e-2")
        if self.size_range is not None and not 0 < self.size_range[0] <= self.size_range[1]:
            raise ValueError(f"size_range {self.size_range} must be factors 0 < low <= high of the matched hidden "
                             f"size, e.g. (0.5, 1.0)")
        check_dropout_range(self.dropout_range)


def check_dropout_range(dropout_range: Any) -> None:
    """Refuse a dropout range that is not two rates ``0 <= low <= high < 1`` (None, no search, passes): a rate of
    1 drops everything, and a negative one is no rate."""
    if dropout_range is None:
        return
    try:
        low, high = (float(v) for v in dropout_range)
    except (TypeError, ValueError):
        raise ValueError(f"dropout_range {dropout_range!r} must be two rates (low, high), e.g. --dropout-range "
                         f"0.0 0.5") from None
    if not 0 <= low <= high < 1:
        raise ValueError(f"dropout_range ({low:g}, {high:g}) must lie in [0, 1) with low <= high (a rate is the "
                         f"share of units dropped; 1 drops them all); give e.g. --dropout-range 0.0 0.5")


def import_optuna():
    """optuna, or an ImportError that says how to install it."""
    try:
        import optuna
    except ImportError as err:
        raise ImportError("the learning-rate search (--lr-search) runs on Optuna, which is not installed here; "
                          "`pip install optuna` (rnnzoo's dependencies list it)") from err
    return optuna


class PruneOnValidation(L.Callback):
    """Report the task's monitored validation metric to an Optuna trial after every validation, and stop training
    (``trainer.should_stop``) when the trial's pruner says so; ``pruned_at`` is then that epoch.

    Stopping instead of raising ``TrialPruned`` inside Lightning lets the run end normally: its MLflow run is
    closed as FINISHED with the epochs it trained, and the caller raises ``TrialPruned`` after ``fit``. No check
    after the last epoch: pruning then saves no time and would only discard a finished trial's value.
    """

    def __init__(self, trial: Any):
        self.trial = trial
        self.pruned_at: int | None = None

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        monitor, _ = pl_module.objective.monitor
        value = trainer.callback_metrics.get(monitor)
        if value is None:
            return
        epoch = trainer.current_epoch
        self.trial.report(float(value), epoch)
        last = trainer.max_epochs is not None and epoch + 1 >= trainer.max_epochs
        if not last and self.trial.should_prune():
            self.pruned_at = epoch
            trainer.should_stop = True


def _config_of(model: CellModel) -> dict[str, Any]:
    """``model``'s task config as a dict (a zoo name's, as TrainingModule.from_model reads it)."""
    if isinstance(model.model, str):
        from rnnzoo.training import build_task_model

        built = build_task_model(model.model)
        return {"task": built.task, **built.config}
    return dict(model.model)


def resized(model: CellModel, hidden_size: int) -> CellModel:
    """``model`` with another hidden size (the rest of its config kept) and its parameters counted again."""
    if hidden_size == model.hidden_size:
        return model
    from rnnzoo.training import build_task_model

    config = {**_config_of(model), "hidden_size": hidden_size}
    return CellModel(model.cell, config, f"{model.name}-h{hidden_size}", hidden_size,
                     build_task_model(config).num_parameters)


def with_dropout(model: CellModel, dropout: float) -> CellModel:
    """``model`` with ``dropout`` in its config (the rest kept). Its name and size stay: dropout adds no
    parameters, and the tables compare cells at the budget their names say."""
    return dataclasses.replace(model, model={**_config_of(model), "dropout": float(dropout)})


def public_url(url: str) -> str:
    """A storage URL fit for logs and results.json: its password hidden."""
    if url.startswith("sqlite"):
        return url
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy reads: say nothing of it beyond its scheme
        return url.split("://", 1)[0] + "://***"


STORAGE_CONNECT_TIMEOUT = 10  # seconds to reach a study database server


def open_storage(url: str):
    """Optuna's RDBStorage at ``url``. A new SQLite file is created under a lock beside it (two processes creating
    the same database at once race in its schema set-up, as MLflow's do), and SQLite waits for a busy database
    instead of failing at once when several processes share it. A storage that cannot be opened is a
    :class:`StudyStorageError` naming the URL (or the file) and the fix."""
    optuna = import_optuna()
    if not url.startswith("sqlite:///"):
        with _storage_errors(url, None):
            # A database server that accepts and never answers would hold the search at the driver's default (often
            # none): PostgreSQL and MySQL drivers take connect_timeout in seconds.
            dialect = url.split(":", 1)[0].split("+", 1)[0]
            connect = {"connect_timeout": STORAGE_CONNECT_TIMEOUT} if dialect in ("postgresql", "mysql", "mariadb") \
                else {}
            return optuna.storages.RDBStorage(url, engine_kwargs={"connect_args": connect} if connect else None)
    path = Path(url.removeprefix("sqlite:///")).expanduser()
    with _storage_errors(url, path):
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(path.name + ".lock"), "a") as lock:
            with contextlib.suppress(ImportError):
                import fcntl

                fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            return optuna.storages.RDBStorage(url, engine_kwargs={"connect_args": {"timeout": 60}})


@contextlib.contextmanager
def _storage_errors(url: str, path: Path | None):
    """SQLAlchemy's errors while opening the study storage (which name neither the option nor the file) as a
    :class:`StudyStorageError` with the fix."""
    from sqlalchemy import exc

    shown = public_url(url) if "@" in url else url  # a password only after user:...@; else the URL as given
    example = "sqlite:///PATH (e.g. sqlite:///optuna.db) or a database URL such as postgresql://user@host/db"
    try:
        yield
    except (exc.NoSuchModuleError, exc.ArgumentError) as err:
        raise StudyStorageError(f"--study-storage {shown!r} is not a database URL SQLAlchemy knows ({err}); give "
                                f"{example}") from None
    except ImportError as err:  # the URL's driver, e.g. psycopg for postgresql:// (Optuna re-raises it)
        driver = getattr(err.__cause__, "name", None) or getattr(err, "name", None) or "its driver"
        raise StudyStorageError(f"--study-storage {shown!r} needs the database driver module {driver!r}, which is "
                                f"not installed here; install its package (e.g. `pip install psycopg` for "
                                f"postgresql://, `pip install pymysql` with mysql+pymysql://), or give "
                                f"sqlite:///PATH") from None
    except exc.DatabaseError as err:
        reason = str(getattr(err, "orig", None) or err).splitlines()[0]
        if path is None:
            raise StudyStorageError(f"the study database {shown!r} could not be opened ({reason}); check that its "
                                    f"server runs and the URL's host, name and credentials, or give "
                                    f"sqlite:///PATH") from None
        if path.is_dir():
            raise StudyStorageError(f"--study-storage {shown!r} names the folder {path}, not a database file; give "
                                    f"sqlite:///{path / 'optuna.db'}") from None
        path = path.resolve()
        raise StudyStorageError(
            f"the study database {path} cannot be read as SQLite ({reason}): it is not an Optuna study database, "
            f"or it is damaged; move it aside (`mv {path} {path}.broken`) and run again to start new studies, or "
            f"give another --study-storage") from None
    except OSError as err:  # the folder for a new SQLite file cannot be made, or its lock file written
        if path is None:
            raise
        raise StudyStorageError(f"--study-storage {shown!r}: cannot create {path} ({err.strerror or err}); give "
                                f"sqlite:///PATH in a folder you can write to") from None


def open_study(storage: Any, name: str, direction: str, attrs: dict[str, Any], seed: int, n_trials: int):
    """The study ``name`` in ``storage``, created or continued. A study whose trials measured something else
    (another range, epochs, model, data or optimizer: ``attrs``) is refused. The sampler's seed mixes in how many
    trials the study holds, so a continued study does not replay its first draws."""
    optuna = import_optuna()
    pruner = optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0)
    study = optuna.create_study(storage=storage, study_name=name, direction=direction, load_if_exists=True,
                                pruner=pruner)
    found = study.user_attrs.get(STUDY_ATTR)
    if found is None:
        study.set_user_attr(STUDY_ATTR, attrs)
    elif found != attrs:
        differ = {k: (found.get(k), attrs.get(k)) for k in set(found) | set(attrs) if found.get(k) != attrs.get(k)}
        raise StudyMismatchError(f"study {name!r} holds trials of another search ({differ}, stored vs now); a study must "
                         f"keep one search space to compare its trials: pass another --study-name (or "
                         f"--study-storage), or the stored settings")
    if study.direction.name.lower() != direction:
        raise StudyMismatchError(f"study {name!r} {study.direction.name.lower()}s its value, this task's metric needs "
                         f"{direction}; pass another --study-name")
    startup = min(10, max(2, n_trials // 2))
    study.sampler = optuna.samplers.TPESampler(seed=seed + len(study.trials), n_startup_trials=startup)
    return study


def search_cell(model: CellModel, datamodule: L.LightningDataModule, settings: TrainSettings, space: SearchSpace,
                *, seed: int, study_name: str, storage: Any, out: Path, tracking_uri: str, experiment_name: str,
                parent_run_id: str, data_name: str, log: Callable[[str], None]) -> tuple[CellModel, float, dict]:
    """Run ``space.n_trials`` trials of ``model``'s study and return the model (its searched size and dropout in
    its config) and learning rate of the study's best completed trial, with what results.json keeps of the
    search. A searched dropout is also logged as the parameter ``search.<cell>.dropout`` of the parent run."""
    optuna = import_optuna()
    trial_settings = dataclasses.replace(settings, max_epochs=space.epochs or settings.max_epochs)
    sizes = None
    if space.size_range is not None:
        sizes = (max(1, math.floor(model.hidden_size * space.size_range[0])),
                 max(1, round(model.hidden_size * space.size_range[1])))
    # The mode needs the task's objective: a throwaway task says it (building a small model takes milliseconds).
    from rnnzoo.training import TrainingModule

    _, mode = TrainingModule(model.model, model_overrides=settings.model_overrides).objective.monitor
    attrs = {"lr_range": list(space.lr_range), "epochs": trial_settings.max_epochs,
             "hidden_size_range": list(sizes) if sizes else None, "model": model.name, "data": data_name,
             "optimizer": settings.optimizer, "train_seed": seed}
    if space.dropout_range is not None:
        # Only when searched: a study made before dropout could be searched continues unchanged.
        attrs["dropout_range"] = [float(v) for v in space.dropout_range]
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # each trial's own line is logged below
    try:
        study = open_study(storage, study_name, "minimize" if mode == "min" else "maximize", attrs,
                           space.seed if space.seed is not None else seed, space.n_trials)
        runs = _optimize(optuna, study, model, datamodule, trial_settings, sizes, seed=seed, study_name=study_name,
                         out=out, n_trials=space.n_trials, tracking_uri=tracking_uri,
                         experiment_name=experiment_name, parent_run_id=parent_run_id, log=log)
    finally:
        optuna.logging.set_verbosity(verbosity)
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not complete:
        raise RuntimeError(f"every trial of study {study_name!r} was pruned or diverged (non-finite validation "
                           f"metric); narrow --lr-range towards smaller rates, or raise --search-epochs")
    best = study.best_trial
    chosen_model = resized(model, best.params["hidden_size"]) if sizes else model
    chosen_dropout = best.params.get("dropout")
    if space.dropout_range is not None:
        chosen_model = with_dropout(chosen_model, chosen_dropout)
    chosen_lr = best.params["lr"]
    note = f", hidden {chosen_model.hidden_size} ({chosen_model.num_params:,} params)" if sizes else ""
    if space.dropout_range is not None:
        note += f", dropout {chosen_dropout:.3g}"
        from mlflow.tracking import MlflowClient

        MlflowClient(tracking_uri=tracking_uri).log_param(parent_run_id, f"search.{model.cell}.dropout",
                                                          chosen_dropout)
    log(f"search {model.cell}: chose lr {chosen_lr:.3g}{note} (trial {best.number} of {len(study.trials)} in "
        f"study {study_name!r})")
    summary = {
        "study": study_name, "chosen": chosen_lr, "hidden_size": chosen_model.hidden_size,
        "num_params": chosen_model.num_params, "dropout": chosen_dropout, "best_value": best.value,
        "best_trial": best.number,
        "best_run_id": best.user_attrs.get("mlflow_run_id"), "added": sorted(runs),
        "trials": [{"number": t.number, "state": t.state.name, "params": t.params, "value": t.value,
                    "num_params": t.user_attrs.get("num_params"), "run_id": t.user_attrs.get("mlflow_run_id"),
                    "intermediate": {str(k): v for k, v in sorted(t.intermediate_values.items())}}
                   for t in study.trials],
        "runs": [r.to_dict() for _, r in sorted(runs.items())],
    }
    return chosen_model, chosen_lr, summary


def _optimize(optuna, study, model: CellModel, datamodule: L.LightningDataModule, trial_settings: TrainSettings,
              sizes: tuple[int, int] | None, *, seed: int, study_name: str, out: Path, n_trials: int,
              tracking_uri: str, experiment_name: str, parent_run_id: str,
              log: Callable[[str], None]) -> dict[int, RunResult]:
    """Add ``n_trials`` trials to ``study``; the runs this process trained, by trial number."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    runs: dict[int, RunResult] = {}
    lr_range = study.user_attrs[STUDY_ATTR]["lr_range"]
    dropout_range = study.user_attrs[STUDY_ATTR].get("dropout_range")

    def objective(trial) -> float:
        lr = trial.suggest_float("lr", *lr_range, log=True)
        trial_model = resized(model, trial.suggest_int("hidden_size", *sizes, log=True)) if sizes else model
        dropout = None
        if dropout_range is not None:
            dropout = trial.suggest_float("dropout", *dropout_range)
            trial_model = with_dropout(trial_model, dropout)
        trial.set_user_attr("num_params", trial_model.num_params)
        root = out / "runs" / "lr_search" / f"{model.cell}-trial{trial.number}"
        shutil.rmtree(root, ignore_errors=True)  # TrainingModule's checkpoint folder must start empty
        pruning = PruneOnValidation(trial)
        try:
            r, _ = train_one(trial_model, datamodule, seed, dataclasses.replace(trial_settings, lr=lr), root,
                             tracking_uri=tracking_uri, experiment_name=experiment_name,
                             parent_run_id=parent_run_id, role="lr_search", run_test=False, export_model=False,
                             callbacks=[pruning], tags={STUDY_TAG: study_name, TRIAL_TAG: str(trial.number)})
        except SystemExit:
            # Optuna fails a trial on KeyboardInterrupt but leaves it RUNNING on SystemExit, which is what
            # Lightning makes of Ctrl+C during fit (and sigterm_exits of SIGTERM).
            with contextlib.suppress(Exception):
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            raise
        runs[trial.number] = r
        trial.set_user_attr("mlflow_run_id", r.run_id)
        size = f", hidden {trial_model.hidden_size} ({trial_model.num_params:,} params)" if sizes else ""
        size += f", dropout {dropout:.3g}" if dropout is not None else ""
        if pruning.pruned_at is not None:
            log(f"search {model.cell} trial {trial.number}: lr {lr:.3g}{size} pruned after epoch "
                f"{pruning.pruned_at + 1} (best val {r.best_val:.4f})")
            raise optuna.TrialPruned(f"pruned after epoch {pruning.pruned_at + 1}")
        log(f"search {model.cell} trial {trial.number}: lr {lr:.3g}{size} -> best val {r.best_val:.4f} "
            f"(epoch {r.best_epoch})")
        return r.best_val  # NaN (diverged) makes the trial FAIL

    def record(study, trial) -> None:  # after each trial, its final state on its MLflow run
        run_id = trial.user_attrs.get("mlflow_run_id")
        if run_id is None:
            return
        client.set_tag(run_id, STATE_TAG, trial.state.name)
        for key, value in trial.params.items():
            client.log_param(run_id, f"trial.{key}", value)
        if trial.value is not None:
            client.log_metric(run_id, "trial/value", float(trial.value))

    study.optimize(objective, n_trials=n_trials, callbacks=[record])
    return runs
