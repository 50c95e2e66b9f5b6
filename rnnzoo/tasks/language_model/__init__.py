"""Language modelling: next-token prediction over word or character streams; perplexity and generation."""

from rnnzoo.tasks.language_model.model import LanguageModel
from rnnzoo.tasks.language_model.objective import LanguageModelObjective
from rnnzoo.tasks.language_model.preprocessing import TextVocabulary, Vocabulary, tokenize

__all__ = ["LanguageModel", "LanguageModelObjective", "TextVocabulary", "Vocabulary", "tokenize"]
