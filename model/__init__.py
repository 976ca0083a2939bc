"""A faithful GPT-2: architecture, byte-level BPE tokenizers, checkpoints."""
