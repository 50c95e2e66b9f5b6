"""The bundled pretrained zoo: every entry loads offline, checks its sha256, and measures what it says it measured.

Each entry's metrics were written by scripts/bundle_weights.py from the `rnnzoo compare` run that trained it
(docs/results.md); here they are recomputed on the test split from the bundled weights alone.
"""

from __future__ import annotations

import lightning as L
import pytest
import torch

import rnnzoo
from rnnzoo.data import PianoRollDataModule, SpeechFeaturesDataModule, TextDataModule, TimeSeriesDataModule
from rnnzoo.hub import ModelFileError
from rnnzoo.training import TrainingModule
from rnnzoo.weights import BUNDLED, bundled_folder
from tests.support.paths import REPO

DATAMODULES = {
    "jsb_chorales_music21": lambda: PianoRollDataModule(batch_size=16),
    "uea_japanese_vowels": lambda: SpeechFeaturesDataModule(batch_size=32, bucket_by_length=True),
    "statsmodels_co2_monthly": lambda: TimeSeriesDataModule("co2", input_length=48, horizon=24, batch_size=32),
    "statsmodels_sunspots_yearly": lambda: TimeSeriesDataModule("sunspots", input_length=33, horizon=24, batch_size=16),
    "ptb_word": lambda: TextDataModule("ptb", batch_size=20, bptt=20),
}


def test_zoo_lists_four_cells_per_dataset():
    names = rnnzoo.list_pretrained()
    assert names == sorted(info.name for info in BUNDLED)
    for family, tag in (("pianoroll", "jsb"), ("vowels", "japanese-vowels"), ("forecaster", "co2")):
        assert {f"{family}-{cell}-20k.{tag}" for cell in ("rnn", "lstm", "peephole-lstm", "gru")} <= set(names)
    for info in BUNDLED:
        assert info.recipe and (bundled_folder(info.source) / "model.safetensors").is_file()


@pytest.mark.parametrize("info", BUNDLED, ids=lambda i: i.name)
def test_bundled_entry_reproduces_its_stated_test_metrics(info):
    model = rnnzoo.load(info.name)  # checks the weights' sha256
    assert sum(p.numel() for p in model.parameters()) == info.num_params
    data = DATAMODULES[info.dataset]()
    task = TrainingModule.from_model(model)
    trainer = L.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False)
    measured = trainer.test(task, datamodule=data, verbose=False)[0]
    assert data.info.get("content_sha256", info.data_sha256) == info.data_sha256  # the same prepared data
    for name, stated in info.metrics.items():
        # Same weights, same data, same metric code: only the summation order of float32 reductions can differ
        # (thread count, batch composition), a relative 1e-6 over ~20k frames; 1e-4 leaves a margin for that.
        assert measured[f"test/{name}"] == pytest.approx(stated, rel=1e-4), name


@pytest.mark.parametrize("info", [i for i in BUNDLED if i.extra.get("stored_dtype") == "float16"], ids=lambda i: i.name)
def test_half_precision_entries_load_as_float32(info):
    from safetensors import safe_open

    with safe_open(str(bundled_folder(info.source) / "model.safetensors"), "pt") as f:
        assert {f.get_slice(k).get_dtype() for k in f.keys()} == {"F16"}  # stored at half the size ...
    assert {p.dtype for p in rnnzoo.load(info.name).parameters()} == {torch.float32}  # ... computed in float32
    # The stated metrics are re-measured on the stored weights; the float32 run's differ by rounding only.
    for name, stated in info.metrics.items():
        assert stated == pytest.approx(info.extra["metrics_float32_run"][name], rel=1e-3), name


def test_tampered_bundled_weights_are_refused(tmp_path, monkeypatch):
    info = BUNDLED[0]
    folder = tmp_path / bundled_folder(info.source).name
    folder.mkdir()
    for file in bundled_folder(info.source).iterdir():
        (folder / file.name).write_bytes(file.read_bytes())
    weights = bytearray((folder / "model.safetensors").read_bytes())
    weights[-1] ^= 0xFF  # one flipped byte inside the last tensor
    (folder / "model.safetensors").write_bytes(bytes(weights))
    monkeypatch.setattr("rnnzoo.weights.WEIGHTS_DIR", tmp_path)
    with pytest.raises(ModelFileError, match="sha256"):
        rnnzoo.load(info.name)


def test_model_card_carries_the_measured_metrics():
    info = next(i for i in BUNDLED if i.name == "pianoroll-gru-20k.jsb")
    card = (bundled_folder(info.source) / "README.md").read_text()
    assert card.startswith("---\n") and "library_name: rnnzoo" in card
    assert "model-index" in card and f"{info.metrics['nll']:.4f}"[:5] in card


def test_docs_table_matches_the_bundled_metadata():
    zoo_md = (REPO / "docs" / "zoo.md").read_text()
    for info in BUNDLED:
        rows = [line for line in zoo_md.splitlines() if line.startswith(f"| `{info.name}` |")]
        assert len(rows) == 1, f"docs/zoo.md needs exactly one row for the bundled entry {info.name}"
        row = rows[0]
        for value in info.metrics.values():
            assert f"{value:.3f}" in row, (info.name, value, row)
