"""Train a GPT-2-style byte-level BPE of a chosen size, for small from-scratch experiments.

Same recipe as GPT-2's vocabulary: 256 byte symbols, GPT-2's pre-tokenization regex (merges
never cross a piece), and "<|endoftext|>" as the one special token.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from contamkit.common.errors import UserError
from contamkit.common.outputs import check_output, staged_dir
from contamkit.common.progress import log, progress
from contamkit.corpus.formats import iter_documents
from contamkit.corpus.read import CorpusStats
from model.tokenizer import EOT, TRAINED_FILES, TrainedBPE

MIN_VOCAB = 257  # 256 bytes + <|endoftext|>


def train_bpe(texts: Iterable[str], vocab_size: int, min_frequency: int = 2) -> TrainedBPE:
    """Learn merges from ``texts`` until ``vocab_size`` tokens (fewer if the corpus runs out)."""
    if vocab_size < MIN_VOCAB:
        raise UserError(f"vocab size {vocab_size}: must be at least {MIN_VOCAB} (256 bytes + EOT)")
    tok = Tokenizer(models.BPE())
    # GPT-2 adds no prefix space; use_regex=True is GPT-2's pattern.
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=[EOT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    bpe = TrainedBPE(tok)
    log.info(f"trained byte-level BPE {bpe.name}: {bpe.vocab_size} tokens (asked {vocab_size})")
    return bpe


def train_tokenizer_on_corpus(
    corpus: str | Path, directory: str | Path, vocab_size: int, text_field: str = "text",
    force: bool = False,
) -> TrainedBPE:
    """Train on every document of a corpus file or directory and save into ``directory``
    (replaced whole, atomically; never one of the corpus's own folders; a folder that is not a
    tokenizer directory only with ``force``)."""
    check_output(directory, [corpus], kind="tokenizer directory", directory=True,
                 own=lambda d: (d / TRAINED_FILES[1]).is_file(), force=force)
    stats = CorpusStats()
    texts = (d.text for d in progress(iterable=iter_documents(corpus, text_field, stats),
                                      desc="tokenizer corpus", unit="doc"))
    bpe = train_bpe(texts, vocab_size)
    stats.report_new(0)
    with staged_dir(directory) as tmp:
        bpe.save(tmp)
    log.info(f"saved tokenizer {bpe.name} to {directory} ({stats.documents} documents; skipped "
             f"{stats.skipped_files} files, {stats.bad_records} bad records)")
    return bpe
