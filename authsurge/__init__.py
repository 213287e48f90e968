"""authsurge: load-testing harness for authentication surge scenarios."""

__version__ = "0.1.0"
