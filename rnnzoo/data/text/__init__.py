"""Text: word- or character-level language modelling over contiguous streams (any text files, or PTB)."""

from rnnzoo.data.text.datamodule import TextDataModule
from rnnzoo.tasks.language_model.preprocessing import EOS, UNK, Vocabulary, tokenize

__all__ = ["EOS", "TextDataModule", "UNK", "Vocabulary", "tokenize"]
