"""The version of pigmentscan, in a module of its own so that no stage imports the package root for it.

pyproject.toml reads it from here (``[tool.setuptools.dynamic]``).
"""

__version__ = "0.3.0.dev2"
