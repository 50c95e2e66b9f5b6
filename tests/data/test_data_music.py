"""PianoRollDataModule on real music21 chorales, and the Boulanger-Lewandowski pickle reader."""

import pickle
import time

import numpy as np
import pytest
import torch

from tests.support.data_fixtures import JSB_LIMIT, SESSION_CACHE, jsb_small
from rnnzoo.data import DataError, PianoRollDataModule, read_boulanger_pickle
from rnnzoo.data.music.jsb_music21 import chorale_names


def test_corpus_has_the_distinct_bwv_chorales():
    names = chorale_names()
    assert 340 <= len(names) <= 360 and len(set(names)) == len(names)  # about 350 (TARGETS.md); 353 in music21 10.5


def test_rolls_are_binary_88_keys_and_split_in_jsb_proportions():
    dm = jsb_small()
    assert dm.split_sizes() == {"train": 24, "val": 8, "test": 8}  # 40 pieces in proportion 229/76/77
    rolls = [item["roll"] for ds in dm.datasets.values() for item in ds]
    assert all(r.shape[1] == 88 and set(r.unique().tolist()) <= {0.0, 1.0} for r in rolls)
    # Four voices sampled at quarter-note frame starts: 3-4 keys in nearly every frame. A few chorales carry a
    # fifth (instrumental) part: 3.6% of these 40 pieces' frames have 5 keys, so allow up to 5% and never 6+.
    notes = torch.cat([r.sum(1) for r in rolls])
    assert notes.max() <= 5 and (notes > 4).float().mean() < 0.05 and (notes >= 3).float().mean() > 0.9
    assert dm.info["parsed"] == JSB_LIMIT


def test_pieces_are_transposed_to_c():
    dm = jsb_small()
    rolls = torch.cat([item["roll"] for ds in dm.datasets.values() for item in ds])
    pitch_class = rolls.sum(0).reshape(-1)[: 84].reshape(7, 12).sum(0)  # keys 0..83 = A0..G#7, 7 octaves
    by_class = torch.roll(pitch_class, 9)  # index 0 = A (MIDI 21) -> rotate so index 0 = C
    # In C major / C minor the tonic C and the dominant G are the two most used pitch classes.
    assert set(by_class.argsort(descending=True)[:2].tolist()) == {0, 7}


def test_cached_build_loads_fast_and_identical():
    first = jsb_small()
    start = time.perf_counter()
    again = PianoRollDataModule(limit=JSB_LIMIT, cache_dir=SESSION_CACHE)
    again.setup()
    elapsed = time.perf_counter() - start
    assert again.info["from_cache"] and again.info["content_sha256"] == first.info["content_sha256"]
    assert elapsed < 1.0  # the "well under a second"; measured about 10 ms here
    assert again.split_sizes() == first.split_sizes()


def test_batches_are_padded_with_lengths():
    batch = next(iter(jsb_small().train_dataloader()))
    assert batch["roll"].shape[0] == 8 and batch["roll"].shape[2] == 88
    for row, length in zip(batch["roll"], batch["lengths"]):
        assert row[length:].sum() == 0


def _bl_format(dm):
    """Real chorales written in B-L's format: dict of splits, each a list of pieces of frames of MIDI numbers."""
    def piece(roll):
        return [tuple(int(k) + 21 for k in np.flatnonzero(frame)) for frame in roll.numpy()]
    return {theirs: [piece(item["roll"]) for item in dm.datasets[ours]]
            for theirs, ours in (("train", "train"), ("valid", "val"), ("test", "test"))}


def test_boulanger_pickle_round_trip(tmp_path):
    dm = jsb_small()
    path = tmp_path / "JSB Chorales.pickle"
    path.write_bytes(pickle.dumps(_bl_format(dm), protocol=2))
    rolls = read_boulanger_pickle(path)
    assert {k: len(v) for k, v in rolls.items()} == dm.split_sizes()
    assert np.array_equal(rolls["val"][0], dm.datasets["val"][0]["roll"].numpy().astype(np.uint8))
    from_file = PianoRollDataModule(source=path, batch_size=4)
    from_file.setup()
    assert from_file.split_sizes() == dm.split_sizes()


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    (b"", "the file is empty"),
    (b"not a pickle at all", "not a readable Boulanger-Lewandowski pickle"),
    (pickle.dumps([1, 2, 3]), "expected a dict with keys 'train', 'valid', 'test'"),
    (pickle.dumps({"train": [_Evil()], "valid": [], "test": []}), "refusing to load builtins.print"),
    (pickle.dumps({"train": [[(200,)]], "valid": [], "test": []}), r"MIDI note 200 lies outside 21..108"),
    (pickle.dumps({"train": [[]], "valid": [], "test": []}), "empty piece"),
])
def test_bad_pickles_are_refused_with_the_file_named(tmp_path, content, message):
    path = tmp_path / "music.pickle"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=message) as err:
        read_boulanger_pickle(path)
    assert str(path) in str(err.value)


def test_eighth_note_frames_double_the_length():
    # 4: the fewest chorales that leave no split empty in JSB's proportions
    quarter = PianoRollDataModule(limit=4, cache_dir=False, progress=False)
    eighth = PianoRollDataModule(limit=4, step=0.5, cache_dir=False, progress=False)
    quarter.setup()
    eighth.setup()
    q = sorted(n for v in quarter.lengths.values() for n in v)
    e = sorted(n for v in eighth.lengths.values() for n in v)
    assert e == [2 * n for n in q]  # chorale durations are whole quarter notes here
    assert eighth.preprocessing["piano_roll"]["step_quarters"] == 0.5
