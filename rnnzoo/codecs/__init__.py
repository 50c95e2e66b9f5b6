"""Codecs: raw values as users write them -> numbers and back, below both :mod:`rnnzoo.data` and :mod:`rnnzoo.tasks`
(both import it; it imports neither). Light: pandas and numpy only, imported when used."""
