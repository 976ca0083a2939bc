"""Controlled memorization experiments: plant benchmark examples in training data on
purpose, then see what the overlap engine, the models and the membership measures make of it.
"""

from contamkit.experiments.config import ExperimentConfig, load_experiment
from contamkit.experiments.runner import run_experiment

__all__ = ["ExperimentConfig", "load_experiment", "run_experiment"]
