"""``compare``'s Optuna search on a tiny run: it finds a learning rate in the range by validation, keeps the study in
SQLite (reloaded here with optuna.load_study), logs every trial as a child of the parent MLflow run with its params,
value and state, prunes an obviously bad trial, and a second connection through the storage URL adds trials to the
same study."""

import pytest

pytestmark = pytest.mark.slow  # real training runs: `pytest -m "not slow"` skips them for a quick pass

optuna = pytest.importorskip("optuna")

from rnnzoo.compare import compare  # noqa: E402
from rnnzoo.compare.search import STATE_TAG, STUDY_TAG, TRIAL_TAG, StudyMismatchError, resized  # noqa: E402
from rnnzoo.compare.single_run import PARENT_TAG, ROLE_TAG  # noqa: E402
from tests.support.tiny_search import tiny_search  # noqa: E402

LR_RANGE = (1e-6, 3e-2)
STUDY = "t-co2"  # the prefix; the gru's study is "t-co2-gru"


def tiny(out, store, storage, **kwargs):
    """2-epoch trials over LR_RANGE, 1-epoch runs."""
    return tiny_search(out, store, storage, STUDY, **{"search_epochs": 2, "lr_range": LR_RANGE, **kwargs})


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture(scope="module")
def searched(tmp_path_factory, store):
    """Three trials of the gru's study; the third is enqueued at lr 1e-6 (it cannot learn in one epoch), so the
    median rule prunes it after its first epoch, whatever TPE would have drawn."""
    out = tmp_path_factory.mktemp("search")
    storage = f"sqlite:///{out / 'study.db'}"
    study = optuna.create_study(storage=storage, study_name=f"{STUDY}-gru", direction="minimize")
    study.enqueue_trial({"lr": 3e-3})
    study.enqueue_trial({"lr": 1e-2})
    study.enqueue_trial({"lr": 1e-6})
    return storage, tiny(out, store, storage, lr_search=3)


def test_finds_a_learning_rate_by_validation(searched):
    _, results = searched
    search = results["lr_search"]["gru"]
    states = [t["state"] for t in search["trials"]]
    assert states == ["COMPLETE", "COMPLETE", "PRUNED"] and search["added"] == [0, 1, 2]
    complete = [t for t in search["trials"] if t["state"] == "COMPLETE"]
    best = min(complete, key=lambda t: t["value"])
    assert LR_RANGE[0] <= search["chosen"] <= LR_RANGE[1]
    assert search["chosen"] == best["params"]["lr"] == results["runs"][0]["lr"]
    assert search["best_value"] == best["value"] == min(r["best_val"] for r in search["runs"][:2])
    pruned = search["trials"][2]
    assert list(pruned["intermediate"]) == ["0"] and search["runs"][2]["epochs"] == 1  # stopped after epoch 1
    # The median rule: its first-epoch value is worse than the median of the completed trials' first epochs.
    first = sorted(t["intermediate"]["0"] for t in complete)
    assert pruned["intermediate"]["0"] > sum(first) / len(first)
    assert "Optuna study per cell" in open(results["files"]["results_md"]).read()


def test_study_is_stored_in_sqlite(searched):
    storage, results = searched
    study = optuna.load_study(study_name=f"{STUDY}-gru", storage=storage)
    saved = results["lr_search"]["gru"]["trials"]
    assert [(t.number, t.state.name, t.params) for t in study.trials] == \
        [(t["number"], t["state"], t["params"]) for t in saved]
    assert study.best_trial.params["lr"] == results["lr_search"]["gru"]["chosen"]
    assert all(t.user_attrs["num_params"] == results["runs"][0]["num_params"] for t in study.trials)


def test_every_trial_is_a_child_run_with_params_value_and_state(searched, store):
    from mlflow.tracking import MlflowClient

    _, results = searched
    client = MlflowClient(tracking_uri=store)
    parent_id = results["meta"]["parent_run_id"]
    parent = client.get_run(parent_id)
    children = client.search_runs([parent.info.experiment_id],
                                  f"tags.`{PARENT_TAG}` = '{parent_id}' and tags.`{ROLE_TAG}` = 'lr_search'")
    trials = results["lr_search"]["gru"]["trials"]
    assert sorted(c.info.run_id for c in children) == sorted(t["run_id"] for t in trials)
    for t in trials:
        run = client.get_run(t["run_id"])
        assert run.data.tags[STATE_TAG] == t["state"] and run.data.tags[TRIAL_TAG] == str(t["number"])
        assert run.data.tags[STUDY_TAG] == f"{STUDY}-gru"
        assert float(run.data.params["trial.lr"]) == pytest.approx(t["params"]["lr"], rel=1e-12)
        assert run.data.metrics["trial/value"] == pytest.approx(t["value"], rel=1e-6)
        assert not any(k.startswith("test/") for k in run.data.metrics)  # trials never see the test split
    assert float(parent.data.params["search.gru.lr"]) == results["lr_search"]["gru"]["chosen"]
    assert parent.data.params["search.gru.best_trial"] == str(results["lr_search"]["gru"]["best_trial"])
    assert parent.data.metrics["search/gru/best_value"] == pytest.approx(results["lr_search"]["gru"]["best_value"])


def test_a_second_connection_continues_the_study(searched, store, tmp_path):
    storage, first = searched
    # Another comparison (another parent run, another output folder) given the same storage URL and study name:
    # what a second machine does with a shared database.
    second = tiny(tmp_path, store, storage, lr_search=1, search_seed=1)
    search = second["lr_search"]["gru"]
    assert search["added"] == [3] and len(search["trials"]) == 4
    assert optuna.load_study(study_name=f"{STUDY}-gru", storage=storage).trials[3].state.name in ("COMPLETE",
                                                                                                   "PRUNED")
    from mlflow.tracking import MlflowClient

    run = MlflowClient(tracking_uri=store).get_run(search["trials"][3]["run_id"])
    assert run.data.tags[PARENT_TAG] == second["meta"]["parent_run_id"] != first["meta"]["parent_run_id"]
    complete = [t for t in search["trials"] if t["state"] == "COMPLETE"]
    assert search["chosen"] == min(complete, key=lambda t: t["value"])["params"]["lr"]  # over both processes
    # A search of another space cannot join the study: refused before any trial trains.
    with pytest.raises(StudyMismatchError, match="epochs"):
        tiny(tmp_path / "other", store, storage, lr_search=1, search_epochs=3)


def test_size_search_reports_each_trials_parameters(tmp_path, store):
    results = compare("co2", budget="8k", cells=("lstm",), seeds=(0,), max_epochs=1, lr_search=2, search_epochs=1,
                      search_size=True, size_range=(0.5, 1.0), out_dir=tmp_path, tracking_uri=store, threads=1,
                      deterministic=True, classical_baselines=False, save_models=False, log=lambda line: None)
    from rnnzoo.compare.models import resolve_models

    matched, = resolve_models("forecaster", budget="8k", cells=("lstm",))
    search, run = results["lr_search"]["lstm"], results["runs"][0]
    for t in search["trials"]:  # the matched size is a ceiling
        assert matched.hidden_size // 2 <= t["params"]["hidden_size"] <= matched.hidden_size
        assert t["num_params"] <= matched.num_params
    assert run["hidden_size"] == search["hidden_size"] and run["num_params"] == search["num_params"]
    assert "the budget is a ceiling" in open(results["files"]["results_md"]).read()


def test_resized_counts_parameters_again():
    from rnnzoo.compare.models import resolve_models
    from rnnzoo.training import build_task_model

    zoo, = resolve_models("forecaster", cells=("gru",))  # a registered zoo name
    small = resized(zoo, zoo.hidden_size // 2)
    assert small.model["hidden_size"] == zoo.hidden_size // 2 and small.name.endswith(f"-h{zoo.hidden_size // 2}")
    assert small.num_params == build_task_model(small.model).num_parameters < zoo.num_params
    assert resized(zoo, zoo.hidden_size) is zoo


def test_command_line_search_options(capsys):
    from rnnzoo.compare.command import build_parser, compare_main

    args = build_parser().parse_args(["--data", "co2", "--lr-search", "4", "--search-size", "--size-range", "0.7",
                                      "1", "--study-storage", "postgresql://u:secret@db/optuna", "--study-name",
                                      "s", "--search-seed", "3"])
    assert (args.lr_search, args.search_size, args.size_range, args.study_name, args.search_seed) == \
        (4, True, [0.7, 1.0], "s", 3)
    with pytest.raises(SystemExit):
        compare_main(["--data", "co2", "--search-size", "--out", "never-written"])
    assert "--search-size needs --lr-search" in capsys.readouterr().err
    from rnnzoo.compare.search import public_url

    assert public_url("postgresql://u:secret@db/optuna") == "postgresql://u:***@db/optuna"


@pytest.mark.parametrize("storage, message", [
    ("foo://x", r"--study-storage 'foo://x' is not a database URL SQLAlchemy knows .*give sqlite:///PATH"),
    ("sqlite:///optuna.db", r"the study database (?P<path>\S+optuna\.db) cannot be read as SQLite \(file is not a "
                            r"database\).*move it aside \(`mv (?P=path) (?P=path)\.broken`\)"),
    (None, r"the study database \S+/o/optuna\.db cannot be read as SQLite"),  # the default, in the output folder
], ids=["unknown-scheme", "text-file", "text-file-default"])
def test_a_storage_that_cannot_be_opened_exits_2_naming_it(storage, message, tmp_path, store, monkeypatch, capsys):
    import re

    from mlflow.tracking import MlflowClient

    from rnnzoo.compare.command import compare_main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "o").mkdir()
    for text_file in (tmp_path / "optuna.db", tmp_path / "o" / "optuna.db"):  # a text file, not SQLite
        text_file.write_text("trial,lr\n0,0.01\n")
    argv = ["--data", "co2", "--cells", "gru", "--seeds", "0", "--lr-search", "1", "--out", "o",
            "--tracking-uri", store, "--experiment", "bad-storage"]
    with pytest.raises(SystemExit) as stopped:
        compare_main(argv + (["--study-storage", storage] if storage else []))
    assert stopped.value.code == 2
    assert re.search(message, capsys.readouterr().err)
    assert MlflowClient(store).get_experiment_by_name("bad-storage") is None  # refused before the parent run
