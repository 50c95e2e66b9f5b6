"""Every recipe and overlay in recipes/ parses into a valid LightningCLI config, and a recipe trains."""

from __future__ import annotations


import pytest
import yaml

from rnnzoo.cli import main
from tests.support.paths import REPO

RECIPES = sorted((REPO / "recipes").glob("*.yaml"))
OVERLAYS = sorted((REPO / "recipes" / "overlays").glob("*.yaml"))


def printed_config(capsys, *args: str) -> dict:
    with pytest.raises(SystemExit) as stop:
        main(["fit", *args, "--print_config"])
    assert stop.value.code in (0, None)
    return yaml.safe_load(capsys.readouterr().out)


def test_there_is_a_recipe_per_cell_and_dataset():
    names = {p.stem for p in RECIPES}
    for dataset in ("jsb", "co2"):
        assert {f"{dataset}-{cell}-20k" for cell in ("rnn", "lstm", "peephole-lstm", "gru")} <= names


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.stem)
def test_recipe_parses(recipe, capsys):
    config = printed_config(capsys, "-c", str(recipe))
    name = recipe.stem
    # {dataset}-{cell}-{budget}[-sdiff][-quantiles] trains {family}-{cell}-{budget}: jsb-gru-20k ->
    # pianoroll-gru-20k, co2-gru-20k-quantiles -> quantile-forecaster-gru-20k, co2-gru-20k-sdiff-quantiles ->
    # sdiff-quantile-forecaster-gru-20k.
    # -tied: the same budget spent differently, the tied family: ptb-lstm-4600k-tied -> tiedwordlm-lstm-4600k.
    rest = name.split("-", 1)[1].removesuffix("-quantiles").removesuffix("-tied")
    cell_and_budget = rest.removesuffix("-sdiff")
    architecture = config["model"]["model"]
    assert architecture.endswith("-" + cell_and_budget), (architecture, name)
    family = architecture.removesuffix("-" + cell_and_budget)
    assert not family.endswith("-peephole")  # an lstm recipe must not train the peephole LSTM
    assert family.startswith("sdiff-") == rest.endswith("-sdiff")
    assert family.startswith("tied") == name.endswith("-tied")
    assert family.removeprefix("sdiff-").startswith("quantile-") == name.endswith("-quantiles")
    assert config["trainer"]["default_root_dir"] == f"runs/{name}"


@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda p: p.stem)
def test_overlay_applies_on_a_recipe(overlay, capsys):
    config = printed_config(capsys, "-c", str(RECIPES[0]), "-c", str(overlay))
    def contains(got, wanted):  # every value the overlay sets is in the resolved config (defaults may be added)
        if isinstance(wanted, dict):
            return all(contains(got.get(k), v) for k, v in wanted.items())
        return got == wanted

    for section, values in yaml.safe_load(overlay.read_text()).items():  # trainer settings, or push_to_hub
        assert contains(config[section], values), section


def test_a_recipe_trains_from_the_command_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    recipe = next(p for p in RECIPES if p.stem == "co2-lstm-20k")
    assert main(["fit", "-c", str(recipe), "--trainer.max_epochs", "1", "--trainer.enable_progress_bar", "false"]) == 0
    assert (tmp_path / "runs" / "co2-lstm-20k" / "checkpoints" / "last.ckpt").is_file()
    assert (tmp_path / "runs" / "co2-lstm-20k" / "config.yaml").is_file()
    assert (tmp_path / "mlflow.db").is_file()


def test_a_jsb_recipe_trains_with_weight_noise_and_keeps_the_averaged_weights(tmp_path, monkeypatch):
    import torch

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    recipe = next(p for p in RECIPES if p.stem == "jsb-gru-20k")
    assert main(["fit", "-c", str(recipe), "--trainer.max_epochs", "2", "--trainer.enable_progress_bar", "false",
                 "--data.init_args.limit", "30"]) == 0
    checkpoints = tmp_path / "runs" / "jsb-gru-20k" / "checkpoints"
    best = next(checkpoints.glob("best-*.ckpt"))
    saved = torch.load(best, map_location="cpu", weights_only=False)
    # Lightning's EMAWeightAveraging: the state dict is the average, the trained weights are kept beside it
    assert any(not torch.equal(saved["state_dict"][k], saved["current_model_state"][k]) for k in saved["state_dict"])
    config = yaml.safe_load((tmp_path / "runs" / "jsb-gru-20k" / "config.yaml").read_text())
    kinds = [c["class_path"] for c in config["trainer"]["callbacks"]]
    assert "rnnzoo.training.weight_noise.WeightNoise" in kinds
    assert "lightning.pytorch.callbacks.EMAWeightAveraging" in kinds
