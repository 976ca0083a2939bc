import math

import numpy as np
import pytest

from contamkit.common.errors import UserError
from overlap import probes
from overlap.bloom import BloomFilter, FilterParams
from overlap.filters import check_compatible, open_filter
from overlap.normalize import NORMALIZER_VERSION

META = dict(n=8, unit="words", normalizer=NORMALIZER_VERSION, tokenizer="", seed=0,
            layout="classic")


def random_hashes(count, seed):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 2**64, count, dtype=np.uint64),
            rng.integers(0, 2**64, count, dtype=np.uint64))


def test_sizing_matches_the_paper_arithmetic():
    p = FilterParams.sized(1_000_000, 1e-8, **META)
    assert p.k == 27
    formula = math.ceil(-1_000_000 * math.log(1e-8) / math.log(2) ** 2)
    assert formula <= p.m < formula + 1000  # rounded up to the next prime
    assert 38.33 < p.m / 1_000_000 < 38.35


def fmix64(x):  # MurmurHash3's finalizer
    for shift, mult in ((33, 0xFF51AFD7ED558CCD), (33, 0xC4CEB9FE1A85EC53), (33, None)):
        x ^= x >> shift
        x = x * mult % 2**64 if mult else x
    return x


def documented_positions(x1: int, x2: int, m: int, k: int) -> list[int]:
    """The probe positions the module docstring promises, in plain Python integers."""
    a, b = x1 % m, 1 + x2 % (m - 1)
    c = fmix64(x1 ^ (((x2 << 32) | (x2 >> 32)) % 2**64)) % m
    return [(a + i * b + i * (i - 1) // 2 * c) % m for i in range(k)]


def test_probe_positions_follow_the_documented_scheme():
    bloom = BloomFilter(FilterParams.sized(1000, 1e-3, **META))
    h1, h2 = random_hashes(1, 0)
    bloom.add(h1, h2)
    m = bloom.params.m
    expected = set(documented_positions(int(h1[0]), int(h2[0]), m, bloom.params.k))
    set_bits = set(np.flatnonzero(np.unpackbits(bloom.bits, bitorder="little")[:m]).tolist())
    assert set_bits == expected


def test_add_sets_exactly_the_documented_bits_in_groups():
    """Many n-grams (several groups of the compiled loop, a ragged last one) set exactly the
    documented positions."""
    params = FilterParams.sized(400, 1e-4, **META)
    m, k = params.m, params.k
    h1, h2 = random_hashes(probes.GROUP * 2 + 37, 3)
    expected = {p for a, b in zip(h1, h2, strict=True)
                for p in documented_positions(int(a), int(b), m, k)}
    bits = np.zeros((m + 7) // 8, np.uint8)
    probes.add(bits, h1, h2, m, k)
    assert set(np.flatnonzero(np.unpackbits(bits, bitorder="little")).tolist()) == expected


def test_contains_checks_every_probe():
    """Queries stop early; their answers must still be 'all k bits set', for queries failing at
    every probe index (a small half-full filter makes late failures common)."""
    bloom = BloomFilter(FilterParams.sized(300, 1e-8, **META))
    bloom.add(*random_hashes(300, 5))
    bits = np.unpackbits(bloom.bits, bitorder="little")
    q1, q2 = random_hashes(20_000, 6)
    q1[:300], q2[:300] = random_hashes(300, 5)  # members too
    expected = [all(bits[p] for p in documented_positions(int(a), int(b), bloom.params.m,
                                                          bloom.params.k))
                for a, b in zip(q1, q2, strict=True)]
    assert bloom.contains(q1, q2).tolist() == expected
    assert sum(expected) >= 300


def test_no_false_negatives_and_fpr_within_binomial_interval():
    n, target = 20_000, 1e-3
    bloom = BloomFilter(FilterParams.sized(n, target, **META))
    members = random_hashes(n, 1)
    bloom.add(*members)
    assert bloom.contains(*members).all()
    probes = 400_000
    hits = int(bloom.contains(*random_hashes(probes, 2)).sum())
    predicted = bloom.estimated_fpr()
    sd = math.sqrt(probes * predicted * (1 - predicted))
    assert abs(hits - probes * predicted) < 4.5 * sd
    assert predicted == pytest.approx(target, rel=0.05)
    assert bloom.estimated_count() == pytest.approx(n, rel=0.01)


@pytest.mark.parametrize("layout", ["classic", "blocked"])
def test_union_equals_filter_of_both_sets(layout):
    params = FilterParams.sized(5000, 1e-4, **{**META, "layout": layout})
    xs, ys = random_hashes(2000, 3), random_hashes(2000, 4)
    a, b, both = BloomFilter(params), BloomFilter(params), BloomFilter(params)
    a.add(*xs)
    b.add(*ys)
    both.add(*xs)
    both.add(*ys)
    union = a.union(b)
    assert np.array_equal(union.bits, both.bits)
    assert union.inserted == 4000


def test_union_refuses_different_parameters():
    a = BloomFilter(FilterParams.sized(5000, 1e-4, **META))
    b = BloomFilter(FilterParams.sized(5000, 1e-4, **{**META, "seed": 1}))
    with pytest.raises(UserError, match="seed"):
        a.union(b)


@pytest.fixture
def saved(tmp_path):
    bloom = BloomFilter(FilterParams.sized(3000, 1e-6, **META))
    members = random_hashes(3000, 5)
    bloom.add(*members)
    path = tmp_path / "f.bloom"
    bloom.save(path)
    return path, bloom, members


def test_round_trip(saved):
    path, bloom, members = saved
    loaded = open_filter(path)
    assert isinstance(loaded.bits, np.memmap)
    assert loaded.params == bloom.params and loaded.inserted == bloom.inserted
    assert np.array_equal(np.asarray(loaded.bits), bloom.bits)
    assert loaded.contains(*members).all()


def _corrupt(path, offset, value):
    data = bytearray(path.read_bytes())
    data[offset] ^= value
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(("offset", "value", "message"), [
    (0, 0xFF, "bad magic"), (8, 0x07, "format version"), (30, 0x01, "header")])
def test_corrupt_prefix_or_header(saved, offset, value, message):
    path = saved[0]
    _corrupt(path, offset, value)
    with pytest.raises(UserError, match=message):
        open_filter(path)


def test_truncated(saved):
    path = saved[0]
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(UserError, match="truncated"):
        open_filter(path)


def test_checksum_mismatch(saved):
    path = saved[0]
    _corrupt(path, path.stat().st_size - 5, 0x10)
    with pytest.raises(UserError, match="checksum"):
        open_filter(path)


def test_query_parameter_mismatch(saved):
    path = saved[0]
    bloom = open_filter(path)
    check_compatible(bloom, path, 8, "words", "")
    with pytest.raises(UserError, match="n=13"):
        check_compatible(bloom, path, 13, "words", "")
    with pytest.raises(UserError, match="unit='gpt2'"):
        check_compatible(bloom, path, 8, "gpt2", "gpt2")


def test_missing_file(tmp_path):
    with pytest.raises(UserError, match="no such filter"):
        open_filter(tmp_path / "absent.bloom")


def test_atomic_save_keeps_old_file_on_failure(saved, monkeypatch):
    path, bloom, _ = saved
    before = path.read_bytes()
    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("contamkit.common.atomic.os.fsync", disk_full)
    with pytest.raises(OSError):
        bloom.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_m_is_prime_so_every_step_visits_k_distinct_bits():
    from overlap.classic import _is_prime, next_prime

    small_primes = [p for p in range(2, 2000) if all(p % d for d in range(2, int(p**0.5) + 1))]
    assert [p for p in range(2000) if _is_prime(p)] == small_primes
    assert next_prime(2**61 - 2) == 2**61 - 1  # a Mersenne prime
    for capacity in (1, 1000, 123_457, 10**9):
        assert _is_prime(FilterParams.sized(capacity, 1e-8, **META).m)


def test_small_filter_reaches_a_low_target():
    """Plain double hashing has a floor of ~n/m² (here ~7e-6 measured for a + i·b): a filter of
    1,000 n-grams at 1e-6 must still answer absent n-grams at ~1e-6."""
    bloom = BloomFilter(FilterParams.sized(1000, 1e-6, **META))
    bloom.add(*random_hashes(1000, 7))
    probes = 20_000_000
    hits = int(bloom.contains(*random_hashes(probes, 8)).sum())
    expected = probes * bloom.estimated_fpr()
    assert hits < expected + 5 * math.sqrt(expected)
