"""The ``hf:DIR`` n-gram unit: token ids of a local Hugging Face ``tokenizer.json``.

Contamination reports since the Llama 2 report count overlap in the tokens of the model under
study; this unit takes that model's own tokenizer file (``DIR/tokenizer.json``, or the file
itself) and codes the normalized text as ``gpt2`` does (words joined by single spaces, one batch
call), with the ``tokenizers`` library. The tokenizer's identity is the sha256 of the file: the
filter records it, and a query with another tokenizer is refused, wherever its file lies. No
special tokens are added (no BOS), and special-token strings in text are encoded as text, as
tiktoken does for ``gpt2``.

An n-gram's span comes from the tokenizer's own character offsets: the word of the normalized
text that each token's last character falls in.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import numpy as np

from contamkit.common.errors import UserError
from overlap.coders import Coder
from overlap.fast_fold import fold_texts, normalized_strings

PREFIX = "hf:"
TOKENIZER_FILE = "tokenizer.json"


def tokenizer_file(arg: str) -> Path:
    """``DIR/tokenizer.json``, or ``arg`` itself when it names the file."""
    path = Path(arg).expanduser()
    if path.is_dir():
        path = path / TOKENIZER_FILE
    if not path.is_file():
        raise UserError(f"{path}: no such tokenizer file (--unit hf:DIR needs DIR/"
                        f"{TOKENIZER_FILE}, as Hugging Face models ship it)")
    return path.resolve()


class HFTokenizerCoder(Coder):
    """Ids of a ``tokenizers`` tokenizer over the normalized text."""

    def __init__(self, arg: str) -> None:
        import tokenizers

        path = tokenizer_file(arg)
        data = path.read_bytes()
        try:
            tok = tokenizers.Tokenizer.from_str(data.decode("utf-8"))
        except Exception as e:  # noqa: BLE001 - the Rust parser raises a bare Exception
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise UserError(f"{path}: not a tokenizer.json the tokenizers library can load "
                            f"({reason})") from None
        tok.encode_special_tokens = True  # "<|endoftext|>" in text is text, as in tiktoken
        self._tok = tok
        self.unit = PREFIX + str(path.parent if path.name == TOKENIZER_FILE else path)
        self.tokenizer = f"{TOKENIZER_FILE}:sha256:{hashlib.sha256(data).hexdigest()}"
        self.vocab_size = tok.get_vocab_size(with_added_tokens=True)

    def prepare(self, texts: list[str]) -> list[str]:
        return normalized_strings(fold_texts(texts))

    def encode(self, prepared: list[str],
               continues: list[bool]) -> tuple[list[np.ndarray], int]:
        """One batch call for all texts; a continuation is coded after a space, as it would
        be inside the whole text."""
        texts = [" " + t if c and t else t for t, c in zip(prepared, continues, strict=True)]
        encodings = self._tok.encode_batch_fast(texts, add_special_tokens=False)
        out = [np.asarray(e.ids, dtype=np.uint64) for e in encodings]
        return out, sum(t.count(" ") + 1 for t in prepared if t)

    def unit_words(self, codes: np.ndarray, words: list[str]) -> np.ndarray:
        """The word of ``" ".join(words)`` each token lies in, from the tokenizer's character
        offsets (the text is encoded again, with offsets; the ids must be ``codes``)."""
        text = " ".join(words)
        enc = self._tok.encode(text, add_special_tokens=False)
        if not np.array_equal(np.asarray(enc.ids, dtype=np.uint64), codes):
            raise ValueError("tokens and codes disagree: codes are not this text's")
        if not len(codes):
            return np.empty(0, dtype=np.int64)
        last_char = np.maximum(np.array([end for _, end in enc.offsets], dtype=np.int64) - 1, 0)
        starts = np.cumsum([0] + [len(w) + 1 for w in words[:-1]])
        return np.searchsorted(starts, last_char, side="right") - 1


@functools.lru_cache(maxsize=4)
def hf_coder(arg: str) -> HFTokenizerCoder:
    """One coder per tokenizer argument (loading a large tokenizer.json takes a while)."""
    return HFTokenizerCoder(arg)
