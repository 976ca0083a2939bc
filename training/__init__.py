"""The bundled GPT-2 trainer: corpus preparation, configs, training loop, checkpoints.

Library entry points: ``training.prepare.prepare_corpus``, ``training.config.load_config``,
``training.trainer.train``. The data manifest written by ``prepare_corpus`` plus a run's config
say exactly which tokens a model saw (``training.exposure``).
"""
