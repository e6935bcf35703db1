"""buildradiator: a terminal build radiator."""

__version__ = "0.1.0"
