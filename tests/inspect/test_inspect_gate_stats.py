"""Gate statistics: recomputed directly from unpadded per-sequence traces, through DataLoaders and DataModules."""

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader

from rnnzoo.data import PadCollate, SequenceDataset
from rnnzoo.inspect import gate_statistics
from rnnzoo.models import PianoRollModel, SequenceClassifier
from rnnzoo.tasks.piano_roll.objective import shifted_input

CELLS = ["rnn", "lstm", "peephole_lstm", "gru"]
SIGMOID = {"input", "forget", "output", "reset", "update"}


def direct_statistics(model, sequences):
    """Mean and saturation per gate, from each sequence run alone (no padding exists to exclude)."""
    values = {}
    for seq in sequences:
        *_, gates = model.rnn(seq.unsqueeze(0), return_gates=True)
        for name, g in gates.items():
            values.setdefault(name, []).append(g[0, 0].reshape(-1))  # slot 0, the one sequence: (T * H,)
    result = {}
    for name, parts in values.items():
        v = torch.cat(parts).double()
        if name in SIGMOID:
            low, high = (v < 0.1).double().mean(), (v > 0.9).double().mean()
        elif name == "c":
            low = high = None
        else:
            low, high = (v < -0.9).double().mean(), (v > 0.9).double().mean()
        result[name] = {"mean": float(v.mean()), "low": None if low is None else float(low),
                        "high": None if high is None else float(high)}
    return result


@pytest.mark.parametrize("cell", CELLS)
def test_matches_direct_recomputation_with_padding_excluded(cell):
    torch.manual_seed(0)
    # Large inputs push some gates into saturation, so the saturation fractions are not trivially 0.
    model = SequenceClassifier(cell=cell, input_size=4, num_classes=3, hidden_size=6).eval()
    sequences = [3 * torch.randn(n, 4) for n in (9, 4, 7, 2)]
    loader = DataLoader(SequenceDataset([{"features": s, "label": torch.tensor(0)} for s in sequences]),
                        batch_size=3, collate_fn=PadCollate(("features",)))
    stats = gate_statistics(model, loader)
    assert stats["steps"] == 22 and stats["sequences"] == 4 and stats["batches"] == 2
    expected = direct_statistics(model, sequences)
    got = stats["slots"]["layer 0"]
    assert set(got) == set(expected)
    saturation_seen = 0.0
    for name, e in expected.items():
        # float32 gate values averaged in float64: ~1e-7; padding counted as zeros would move means by ~10%.
        assert got[name]["mean"] == pytest.approx(e["mean"], rel=1e-5, abs=1e-7)
        if e["low"] is None:
            assert got[name]["saturated"] is None
        else:
            assert got[name]["low"] == pytest.approx(e["low"], abs=1e-12)  # exact counts of the same values
            assert got[name]["high"] == pytest.approx(e["high"], abs=1e-12)
            assert got[name]["saturated"] == pytest.approx(e["low"] + e["high"], abs=1e-12)
            saturation_seen += e["low"] + e["high"]
    assert saturation_seen > 0  # the comparison above covered non-zero saturation counts


class TinyRolls(L.LightningDataModule):
    """A DataModule like PianoRollDataModule, with datasets filled in setup()."""

    def __init__(self, rolls):
        super().__init__()
        self.rolls, self.datasets = rolls, {}

    def setup(self, stage=None):
        self.datasets["val"] = SequenceDataset([{"roll": r} for r in self.rolls])

    def val_dataloader(self):
        return DataLoader(self.datasets["val"], batch_size=2, collate_fn=PadCollate(("roll",)))


def test_datamodule_split_reads_rolls_as_training_does():
    """A piano-roll batch is read after a silent start frame (shifted), exactly as the training step feeds it."""
    torch.manual_seed(0)
    model = PianoRollModel(cell="lstm", hidden_size=5, num_pitches=12).eval()
    rolls = [(torch.rand(n, 12) < 0.3).float() for n in (10, 6, 8)]
    from_datamodule = gate_statistics(model, TinyRolls(rolls), split="val")
    as_read = [(shifted_input(r.unsqueeze(0)), None) for r in rolls]
    direct = gate_statistics(model, as_read)
    for name, values in direct["slots"]["layer 0"].items():
        assert from_datamodule["slots"]["layer 0"][name]["mean"] == pytest.approx(values["mean"], rel=1e-5)
    assert from_datamodule["steps"] == direct["steps"] == 24


def test_every_slot_of_a_stacked_bidirectional_layer_is_reported():
    model = SequenceClassifier(cell="gru", input_size=3, num_classes=2, hidden_size=4, num_layers=2,
                               bidirectional=True).eval()
    stats = gate_statistics(model, [(torch.randn(2, 5, 3), torch.tensor([5, 3]))])
    assert list(stats["slots"]) == ["layer 0", "layer 0 reverse", "layer 1", "layer 1 reverse"]
    assert set(stats["slots"]["layer 1 reverse"]) == {"reset", "update", "candidate", "h"}


def test_empty_split_is_an_error():
    model = PianoRollModel(cell="rnn", hidden_size=3, num_pitches=4).eval()
    with pytest.raises(ValueError, match="no batches"):
        gate_statistics(model, [])
