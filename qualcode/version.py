"""The package version, in a module of its own so the core can name it without importing the facade."""

__version__ = "0.1.0"
