"""Character- or word-level language model: embedding, recurrent layer, softmax over the vocabulary."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnzoo.tasks.base import PreprocessingError, TaskModel
from rnnzoo.tasks.language_model.objective import LanguageModelObjective
from rnnzoo.tasks.language_model.preprocessing import TextVocabulary
from rnnzoo.tasks.layers import build_layer
from rnnzoo.tasks.raw_input import whole_number, write_or_return

_SYNTHETIC_TEXT = b"the forget gate decides what the cell keeps; the input gate what it writes. "


class LanguageModel(TaskModel):
    """Embedding -> recurrent layer -> linear to next-token logits, with optionally tied weights.

    On raw text: :meth:`perplexity` (the card's metric) and :meth:`generate`, through the vocabulary the model
    carries (``model.preprocessing``, a :class:`TextVocabulary`).

    Tying the output matrix to the embedding (Press & Wolf 2017; Inan et al. 2017) needs
    ``embedding_dim == hidden_size``; it saves ``vocab_size * hidden_size`` parameters.

    Args:
        cell: "rnn" | "lstm" | "peephole_lstm" | "gru".
        vocab_size: number of tokens (characters or words); the vocabulary itself travels as preprocessing.
        embedding_dim: token embedding width; ``None``: as wide as the recurrent layer (what tying needs, and how
            the ``tiedwordlm`` family is registered, so its width follows the hidden size a budget picks).
        hidden_size, num_layers, dropout: of the recurrent layer; ``dropout`` is also applied to the
            embeddings and to the layer's output (Zaremba et al. 2014).
        tie_weights: share the embedding and output matrices.
        cell_options: extra layer arguments (e.g. ``{"forget_bias": 0.0}``).
        init_range: if set, every parameter (embedding, recurrent weights and biases, softmax) is drawn
            uniformly from ``[-init_range, init_range]`` instead of the layers' Xavier/orthogonal default, as in
            Zaremba et al. 2014 (0.1 for the small configuration); the LSTMs' forget bias is then uniform too.
    """

    task = "language_model"
    objective_class = LanguageModelObjective
    preprocessing_class = TextVocabulary
    card_tags = ("text-generation", "Language modelling")
    predict_input_example = "text.txt --perplexity"
    saved_baseline_kind = "count-lm"
    input_kind = "tokens"
    card_usage = ('print(model.perplexity("some text"), model.generate("the", max_new_tokens=20, seed=0))')

    @staticmethod
    def baselines(datamodule: Any) -> dict[str, dict[str, Any]]:
        """Kneser-Ney bigram and unigram counts on the same items (``rnnzoo compare``'s verdict)."""
        from rnnzoo.tasks.language_model.baselines import language_model_baselines

        return language_model_baselines(datamodule)

    def __init__(
        self,
        cell: str = "lstm",
        vocab_size: int = 256,
        embedding_dim: int | None = 64,
        hidden_size: int = 256,
        num_layers: int = 1,
        dropout: float = 0.0,
        tie_weights: bool = False,
        cell_options: dict[str, Any] | None = None,
        init_range: float | None = None,
    ):
        super().__init__()
        if init_range is not None and not init_range > 0:
            raise ValueError(f"init_range must be a positive number (Zaremba et al. used 0.1), got {init_range}")
        embedding_dim = hidden_size if embedding_dim is None else embedding_dim
        if tie_weights and embedding_dim != hidden_size:
            raise ValueError(
                f"tie_weights=True needs embedding_dim == hidden_size, got {embedding_dim} and {hidden_size}; "
                f"embedding_dim=None makes it follow hidden_size"
            )
        self._store_config(
            cell=cell, vocab_size=vocab_size, embedding_dim=embedding_dim, hidden_size=hidden_size,
            num_layers=num_layers, dropout=dropout, tie_weights=tie_weights, cell_options=cell_options,
            **({"init_range": init_range} if init_range is not None else {}),
        )
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.drop = nn.Dropout(dropout)
        self.rnn = build_layer(cell, embedding_dim, hidden_size, num_layers, dropout, cell_options=cell_options)
        self.head = nn.Linear(hidden_size, vocab_size)
        if tie_weights:
            self.head.weight = self.embedding.weight
        if init_range is not None:
            for param in self.parameters():
                nn.init.uniform_(param, -init_range, init_range)

    def forward(
        self,
        tokens: Tensor,
        hx=None,
        *,
        lengths: Tensor | Sequence[int] | None = None,
        return_state: bool = False,
    ):
        """``tokens`` (B, T) int64 -> next-token logits (B, T, vocab_size).

        ``hx`` is the layer's initial state; with ``return_state=True`` it returns ``(logits, state)`` so
        truncated backpropagation through time and generation can carry the state over (detach it first).
        """
        if tokens.is_floating_point() or tokens.dtype == torch.bool:
            raise TypeError(f"tokens must be integer ids, got dtype {tokens.dtype}; encode text with "
                            f"model.preprocessing.encode(text) or use model.perplexity / model.generate")
        # The id range check reads values, which an exported graph cannot do (torch.export traces shapes only).
        if not torch.compiler.is_exporting() and tokens.numel() and (int(tokens.min()) < 0 or int(tokens.max()) >= self.embedding.num_embeddings):
            raise ValueError(f"token ids must lie in 0..{self.embedding.num_embeddings - 1} (the vocabulary), got "
                             f"{int(tokens.min())}..{int(tokens.max())}; ids from another vocabulary? Encode text "
                             f"with this model's model.preprocessing.encode")
        output, state = self.rnn(self.drop(self.embedding(tokens)), hx, lengths=lengths)
        logits = self.head(self.drop(output))
        return (logits, state) if return_state else logits

    def layer_input(self, model_input: Tensor) -> Tensor:
        """Token ids ``(B, T)`` -> their embeddings, as :meth:`forward` feeds the layer (dropout off in eval)."""
        return self.embedding(model_input.long().to(self.embedding.weight.device))

    def synthetic_input(self, steps, generator):
        """The bytes of a fixed English sentence for byte-level vocabularies, else random ids."""
        vocab_size = self.config["vocab_size"]
        if vocab_size >= 256:
            text = (_SYNTHETIC_TEXT * (steps // len(_SYNTHETIC_TEXT) + 1))[:steps]
            return torch.tensor(list(text), dtype=torch.int64).unsqueeze(0)
        return torch.randint(0, vocab_size, (1, steps), generator=generator)

    def perplexity(self, text: str, *, batch_size: int = 1, bptt: int = 256) -> float:
        """Perplexity of the model on ``text`` (tokenised as in training; unknown tokens read as ``<unk>``).

        The text is one stream: it is cut into ``batch_size`` contiguous rows read ``bptt`` tokens at a time with
        the state carried over, as :class:`~rnnzoo.data.TextDataModule` feeds evaluation, and ``exp`` of the mean
        next-token cross-entropy is returned. ``batch_size=1`` reads the whole text with one state (every token
        but the first is predicted). The card's metric was measured with the recipe's batch size (20 for PTB),
        where each row starts from a zero state and the tail that does not fill a row is dropped; pass that
        batch size to reproduce it exactly.
        """
        vocab = self.require_preprocessing("perplexity()")
        if batch_size < 1 or bptt < 1:
            raise PreprocessingError(f"batch_size and bptt must be >= 1, got {batch_size} and {bptt}")
        ids = vocab.encode(text)
        row_len = len(ids) // batch_size
        if row_len < 2:
            raise PreprocessingError(f"the text has {len(ids)} tokens: too few for {batch_size} rows of at least 2 "
                                     f"(one to read, one to predict); give more text or a smaller batch_size")
        rows = torch.from_numpy(ids[: row_len * batch_size].reshape(batch_size, row_len))
        nll, count, state = torch.zeros((), dtype=torch.float64), 0, None
        with self.inference() as weight:
            rows = rows.to(weight.device)
            for start in range(0, row_len - 1, bptt):
                stop = min(start + bptt, row_len - 1)
                inputs, targets = rows[:, start:stop], rows[:, start + 1:stop + 1]  # (B, t) each
                logits, state = self(inputs, state, return_state=True)  # (B, t, V)
                nll += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                       reduction="sum").double().cpu()
                count += targets.numel()
        return math.exp(float(nll) / count)

    def generate(self, prompt: str, max_new_tokens: int = 50, temperature: float = 1.0,
                 seed: int | None = None) -> str:
        """Continue ``prompt`` by sampling ``max_new_tokens`` tokens; returns the prompt and its continuation.

        ``temperature`` divides the logits (0: always the most likely token); ``seed`` makes the draw repeatable.
        Word-level models write ``<eos>`` as a line break.
        """
        vocab = self.require_preprocessing("generate()")
        max_new_tokens = whole_number(max_new_tokens, "max_new_tokens", 0)
        if not temperature >= 0:
            raise PreprocessingError(f"temperature must be >= 0 (0: greedy), got {temperature}")
        ids = torch.from_numpy(vocab.encode(prompt, "prompt"))
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        new: list[int] = []
        with self.inference() as weight:
            logits, state = self(ids.unsqueeze(0).to(weight.device), return_state=True)  # (1, T, V)
            for _ in range(max_new_tokens):
                last = logits[0, -1].float().cpu()  # (V,)
                if temperature == 0:
                    token = int(last.argmax())
                else:
                    token = int(torch.multinomial(torch.softmax(last / temperature, -1), 1, generator=generator))
                new.append(token)
                logits, state = self(torch.tensor([[token]], device=weight.device), state, return_state=True)
        continuation = vocab.decode(new)
        joint = "" if vocab.level == "char" or not continuation or prompt[-1:].isspace() \
            or continuation.startswith("\n") else " "
        return prompt + joint + continuation

    def predict_from_files(self, inputs, options):
        """A text file (or the text itself) -> its continuation, or its perplexity with ``--perplexity``."""
        import os

        if len(inputs) == 1 and os.path.isfile(inputs[0]):
            with open(inputs[0], encoding="utf-8") as f:
                text = f.read()
        elif len(inputs) == 1 and _looks_like_a_path(inputs[0]):
            raise PreprocessingError(f"{inputs[0]}: no such file. Give an existing text file, or the text itself "
                                     f"in quotes (a single word that looks like a file name is taken for one)")
        else:
            text = " ".join(inputs)
        if options.perplexity:
            vocab = self.require_preprocessing("perplexity()")
            unknown, total = vocab.unknown_rate(text)
            how = f", text normalised as the training text ({vocab.normalize})" if vocab.normalize else ""
            return write_or_return(f"perplexity {self.perplexity(text):.4f} ({unknown} of {total} {vocab.level} "
                                   f"tokens, {unknown / max(total, 1):.1%}, read as {vocab.unk}{how})", options.out)
        return write_or_return(self.generate(text, options.max_new_tokens, options.temperature, options.seed),
                               options.out)


def _looks_like_a_path(text: str) -> bool:
    """One word with a folder separator or a file suffix (``book.txt``, ``data/x``): a mistyped file name, not a
    text to score (``rnnzoo predict MODEL boook.txt`` once scored the string "boook.txt")."""
    import os

    word = text.strip()
    suffix = os.path.splitext(word)[1].lower()
    return bool(word) and " " not in word and (os.sep in word or "/" in word or suffix in TEXT_FILE_SUFFIXES)


#: suffixes of files a user would pass as text (a word ending in one is taken for a file name)
TEXT_FILE_SUFFIXES = {".txt", ".text", ".md", ".rst", ".csv", ".tsv", ".json", ".log", ".html", ".xml", ".tex"}

