"""rnnzoo's version: a leaf module, so code anywhere in the package can quote it without importing the package's
face (``rnnzoo/__init__.py`` registers the zoo, which would make every such import a cycle)."""

__version__ = "0.1.0"
