"""Evaluation and contamination analysis: per-example metrics, overlap shift, underfitting.

``evaluate`` scores a checkpoint on a benchmark, one JSON line per example; ``analyze`` joins
those lines with an ``overlap`` run and measures how the metric moves with overlap;
``underfit`` compares train and held-out perplexity across model sizes (GPT-2 Figure 4).
"""
