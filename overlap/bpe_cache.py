"""GPT-2 ids of normalized text, with BPE run once per distinct word (as Hugging Face's
tokenizers caches words).

Why a word's ids can be cached: normalized text is words of word characters joined by single
spaces, and GPT-2's pre-tokenizer (``model.tokenizer.GPT2_PATTERN``) cuts it into pieces that
never cross a space: a word is one or more pieces (" abc123" is " abc" + "123"), the first one
taking the space before the word. BPE never merges across pieces, so a text's ids are its
words' ids one after the other, and a word's ids depend only on its bytes and on whether a
space comes before it (every word but a text's first; that one too when the text continues a
previous piece). The tests check this against tiktoken on real and adversarial text.

The table is keyed exactly: a word's slot comes from its 64-bit mmh3 code (``overlap.murmur``,
the ``words`` unit's code), but a hit also compares the stored bytes, so two words whose codes
collide never share ids (a collision is ~2^-64 per pair, but ids must equal tiktoken's on any
input, and the compare costs a few bytes per word). Memory is bounded: at most
``max_words`` words, ``max_bytes`` of their bytes and ``max_ids`` of their ids; when a batch's
new words do not fit, the table is emptied and refilled from that word on (frequent words come
back within a batch). Words longer than ``max_word_bytes`` are never stored: tiktoken encodes
them at each occurrence, in the same batched call as the batch's new words.
"""

from __future__ import annotations

import numba
import numpy as np
import tiktoken

from overlap.murmur import JIT, word_code_spans

_SPACE = np.uint8(32)
_SEPARATOR = np.uint8(10)  # between the words sent to tiktoken: a newline is its own piece
_SPACED = np.uint64(0x9E3779B97F4A7C15)  # xored into the code of a word with a space before it
# state[...]: counters of the table, kept in one array so that compiled code updates them
_WORDS, _BYTES, _IDS, _HITS, _MISSES, _RESETS = range(6)
_FIRST_SLOTS = 1 << 12


@numba.njit(**JIT)
def _stored(arena, at, size, buf, start, spaced):
    """Whether ``arena[at:at + size]`` holds the word ``buf[start:...]`` (after a space when
    ``spaced``)."""
    if spaced:
        if arena[at] != _SPACE:
            return False
        at += 1
        size -= 1
    elif arena[at] == _SPACE:
        return False
    b = 0
    while b < size and arena[at + b] == buf[start + b]:
        b += 1
    return b == size


@numba.njit(**JIT)
def _resolve(buf, starts, ends, codes, spaced, first, slots, keys, word_at, word_len, arena,
             ids_len, max_ids, state, max_word_bytes):
    """The table entry of each word from ``first`` on, inserting the new ones (their ids still
    to come), until the table is full or its slots are half used.

    Returns (entry per word: >= 0 a table entry, -d - 1 the d-th word not stored because too
    long; the new entries; the words not stored; where it stopped, ``len(starts)`` when done).
    """
    n = len(starts)
    entry = np.empty(n - first, dtype=np.int64)
    new = np.empty(n - first, dtype=np.int64)
    direct = np.empty(n - first, dtype=np.int64)
    n_new = n_direct = reserved = 0
    mask = len(slots) - 1
    for w in range(first, n):
        start, sp = starts[w], spaced[w]
        size = ends[w] - start + sp
        if size > max_word_bytes:
            entry[w - first] = -n_direct - 1
            direct[n_direct] = w
            n_direct += 1
            continue
        key = codes[w] ^ _SPACED if sp else codes[w]
        i = np.int64(key & np.uint64(mask))
        found = -1
        while slots[i]:
            k = slots[i] - 1
            if keys[k] == key and word_len[k] == size and _stored(arena, word_at[k], size,
                                                                  buf, start, sp):
                found = k
                break
            i = (i + 1) & mask
        if found >= 0:
            entry[w - first] = found
            state[_HITS] += 1
            continue
        # a token is at least one byte, so the ids of the new words fit if their bytes do
        if (2 * state[_WORDS] == len(slots) or state[_WORDS] == len(keys)
                or state[_BYTES] + size > len(arena) or state[_IDS] + reserved + size > max_ids):
            return entry[: w - first], new[:n_new], direct[:n_direct], w
        k = state[_WORDS]
        state[_WORDS] += 1
        state[_MISSES] += 1
        keys[k], word_at[k], word_len[k], ids_len[k] = key, state[_BYTES], size, 0
        at = state[_BYTES]
        if sp:
            arena[at] = _SPACE
            at += 1
        for b in range(ends[w] - start):
            arena[at + b] = buf[start + b]
        state[_BYTES] += size
        reserved += size
        slots[i] = k + 1
        entry[w - first] = k
        new[n_new] = k
        n_new += 1
    return entry, new[:n_new], direct[:n_direct], n


@numba.njit(**JIT)
def _rehash(keys, words, size):
    """The slots of the table's first ``words`` entries, in ``size`` slots."""
    slots = np.zeros(size, dtype=np.int64)
    mask = np.uint64(size - 1)
    for k in range(words):
        i = np.int64(keys[k] & mask)
        while slots[i]:
            i = (i + 1) & (size - 1)
        slots[i] = k + 1
    return slots


@numba.njit(**JIT)
def _request(buf, starts, ends, spaced, new, direct, arena, word_at, word_len):
    """The UTF-8 text tiktoken encodes: the new entries' words, then the words not stored, as
    they stand in the text (a space before them where there is one), one per line."""
    size = 0
    for k in new:
        size += word_len[k] + 1
    for w in direct:
        size += ends[w] - starts[w] + spaced[w] + 1
    out = np.empty(max(size - 1, 0), dtype=np.uint8)
    i = 0
    for k in new:
        for b in range(word_len[k]):
            out[i + b] = arena[word_at[k] + b]
        i += word_len[k]
        if i < len(out):
            out[i] = _SEPARATOR
            i += 1
    for w in direct:
        if spaced[w]:
            out[i] = _SPACE
            i += 1
        for b in range(starts[w], ends[w]):
            out[i] = buf[b]
            i += 1
        if i < len(out):
            out[i] = _SEPARATOR
            i += 1
    return out


@numba.njit(**JIT)
def _store(ids, newline, count, new, ids_at, ids_len, id_arena, state):
    """Split tiktoken's ids at the newlines (one between each two words; ``count`` words):
    the new entries' ids go into the table, and the (start, length) in ``ids`` of the other
    words' ids are returned."""
    direct_at = np.zeros(count - len(new), dtype=np.int64)
    direct_len = np.zeros_like(direct_at)
    item = 0
    begin = 0
    for i in range(len(ids) + 1):
        if i < len(ids) and ids[i] != newline:
            continue
        if item < len(new):
            k = new[item]
            ids_at[k], ids_len[k] = state[_IDS], i - begin
            for j in range(begin, i):
                id_arena[state[_IDS]] = ids[j]
                state[_IDS] += 1
        else:
            direct_at[item - len(new)], direct_len[item - len(new)] = begin, i - begin
        item += 1
        begin = i + 1
    return direct_at, direct_len


@numba.njit(**JIT)
def _assemble(entry, ids_at, ids_len, id_arena, fresh, direct_at, direct_len):
    """Every word's ids in order (uint64), and the number of ids up to each word's end."""
    ends = np.empty(len(entry), dtype=np.int64)
    total = 0
    for w in range(len(entry)):
        k = entry[w]
        total += ids_len[k] if k >= 0 else direct_len[-k - 1]
        ends[w] = total
    out = np.empty(total, dtype=np.uint64)
    i = 0
    for w in range(len(entry)):
        k = entry[w]
        if k >= 0:
            for j in range(ids_at[k], ids_at[k] + ids_len[k]):
                out[i] = id_arena[j]
                i += 1
        else:
            d = -k - 1
            for j in range(direct_at[d], direct_at[d] + direct_len[d]):
                out[i] = fresh[j]
                i += 1
    return out, ends


class WordIdCache:
    """GPT-2 ids of words, each word encoded by tiktoken once until the table is full.

    Not thread-safe: each thread that codes keeps its own (``GPT2Coder`` does)."""

    STATS = ("words", "bytes", "ids", "hits", "misses", "resets")

    def __init__(self, encoding: tiktoken.Encoding, max_words: int = 1 << 18,
                 max_bytes: int = 1 << 22, max_ids: int = 1 << 20,
                 max_word_bytes: int = 64) -> None:
        self.encoding = encoding
        (self._newline,) = encoding.encode_ordinary("\n")
        self.max_word_bytes = min(max_word_bytes, max_bytes, max_ids)  # one always fits
        # at most half full; they start few, to stay in the CPU's caches, and double as needed
        self._max_slots = 1 << int(max_words * 2 - 1).bit_length()
        self._slots = np.zeros(min(self._max_slots, _FIRST_SLOTS), dtype=np.int64)
        # zeros: pages the table never reaches are never touched
        self._keys = np.zeros(max_words, dtype=np.uint64)
        self._word_at = np.zeros(max_words, dtype=np.int64)
        self._word_len = np.zeros(max_words, dtype=np.int64)
        self._ids_at = np.zeros(max_words, dtype=np.int64)
        self._ids_len = np.zeros(max_words, dtype=np.int64)
        self._arena = np.zeros(max_bytes, dtype=np.uint8)
        self._id_arena = np.zeros(max_ids, dtype=np.uint32)
        self.state = np.zeros(6, dtype=np.int64)

    @property
    def stats(self) -> dict[str, int]:
        """Words stored, their bytes and ids, and hits, misses and resets so far."""
        return dict(zip(self.STATS, self.state.tolist(), strict=True))

    def _make_room(self) -> None:
        """More slots while the table may grow; else empty it."""
        words = int(self.state[_WORDS])
        if 2 * words == len(self._slots) and len(self._slots) < self._max_slots:
            self._slots = _rehash(self._keys, words, 2 * len(self._slots))
            return
        self._slots[:] = 0
        self.state[[_WORDS, _BYTES, _IDS]] = 0
        self.state[_RESETS] += 1

    def text_ids(self, buf: np.ndarray, ends: np.ndarray,
                 continues: list[bool]) -> tuple[list[np.ndarray], int]:
        """The ids of each text of ``buf`` (uint8 UTF-8: words separated by runs of spaces,
        text j ending before offset ``ends[j]``), as tiktoken encodes the text's words joined
        by single spaces, after a space when ``continues[j]``; and the number of words."""
        codes, starts, word_ends = word_code_spans(buf)
        spaced = np.ones(len(starts), dtype=np.int64)
        text_begins = np.concatenate([[0], ends[:-1] + 1])
        first_word = np.searchsorted(starts, text_begins)
        has_words = first_word < np.searchsorted(starts, ends)
        spaced[first_word[has_words]] = np.asarray(continues, dtype=np.int64)[has_words]
        ids, id_ends = self.word_ids(buf, starts, word_ends, codes, spaced)
        cuts = np.concatenate([[0], id_ends])[np.searchsorted(starts, ends[:-1])]
        return np.split(ids, cuts), len(starts)

    def word_ids(self, buf: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                 codes: np.ndarray, spaced: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The ids of the words ``buf[starts[w]:ends[w]]`` (with codes ``codes``, after a
        space where ``spaced``) one after the other, and the number of ids up to each word's
        end. A loop per table reset, not per word."""
        parts, part_ends = [], []
        done = offset = 0
        while True:
            entry, new, direct, stop = _resolve(
                buf, starts, ends, codes, spaced, done, self._slots, self._keys, self._word_at,
                self._word_len, self._arena, self._ids_len, len(self._id_arena), self.state,
                self.max_word_bytes)
            fresh = np.empty(0, dtype=np.uint32)
            direct_at = direct_len = np.empty(0, dtype=np.int64)
            if len(new) or len(direct):
                request = _request(buf, starts, ends, spaced, new, direct, self._arena,
                                   self._word_at, self._word_len)
                text = request.tobytes().decode("utf-8", "surrogatepass")
                fresh = self.encoding.encode_to_numpy(text, disallowed_special=())
                count = len(new) + len(direct)
                if np.count_nonzero(fresh == self._newline) != count - 1:
                    raise AssertionError("tiktoken did not keep the words' newlines apart")
                direct_at, direct_len = _store(fresh, self._newline, count, new, self._ids_at,
                                               self._ids_len, self._id_arena, self.state)
            ids, id_ends = _assemble(entry, self._ids_at, self._ids_len, self._id_arena, fresh,
                                     direct_at, direct_len)
            parts.append(ids)
            part_ends.append(id_ends + offset)
            offset += len(ids)
            done = stop
            if done == len(starts):
                break
            self._make_room()
        if len(parts) == 1:
            return parts[0], part_ends[0]
        return np.concatenate(parts), np.concatenate(part_ends)
