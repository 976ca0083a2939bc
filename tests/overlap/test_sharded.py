"""Sharded and spilled builds (in process): exactness against independent references, refusals."""

import json
import math
import re
import shutil

import numpy as np
import pytest

from contamkit.common.errors import UserError
from contamkit.corpus.formats import corpus_files, plan_tasks
from contamkit.scale.route import build_filter
from overlap.bloom import BloomFilter, FilterParams
from overlap.build import exact_capacity
from overlap.filters import filter_info, open_filter
from overlap.normalize import NORMALIZER_VERSION
from overlap.options import BuildOptions
from overlap.pipeline import HashRun, HashSpec
from overlap.verify import random_probe_hashes, verify_filter
from tests.overlap.same_build import same_build


def corpus_hashes(path):
    """Every n-gram hash of a corpus, from the engine's serial pipeline (no scale code)."""
    batches = list(HashRun(plan_tasks(corpus_files(path), 1), HashSpec(), 1))
    return np.concatenate([b.h1 for b in batches]), np.concatenate([b.h2 for b in batches])


def reference_shard(h1, h2, shard, shards, layout):
    """Shard ``shard`` rebuilt by hand: the n-grams whose top bits select it, exactly counted."""
    mine = (h1 >> np.uint64(64 - int(math.log2(shards)))) == shard
    distinct = len(np.unique(np.stack([h1[mine], h2[mine]], 1).view(np.dtype((np.void, 16)))))
    params = FilterParams.sized(exact_capacity(distinct), 1e-8, layout=layout, n=8, unit="words",
                                normalizer=NORMALIZER_VERSION, tokenizer="", seed=0)
    bloom = BloomFilter(params)
    bloom.add(h1[mine], h2[mine])
    return bloom


@pytest.fixture(scope="module", params=["blocked", "classic"])
def ptb(shared_data, tmp_path_factory, request):
    d = tmp_path_factory.mktemp("ptb")
    src = shared_data / "ptb" / "ptb.train.txt"
    layout = request.param
    build_filter(src, d / "plain.bloom", BuildOptions(workers=1, layout=layout))
    summary = build_filter(src, d / "sharded.bloom", BuildOptions(workers=1, shards=4,
                                                                  layout=layout))
    return src, d, summary, corpus_hashes(src)


def test_each_shard_is_the_reference_filter_of_its_prefix(ptb):
    _, d, summary, (h1, h2) = ptb
    sharded = open_filter(d / "sharded.bloom")
    assert summary["shards"] == 4 and len(sharded.shards) == 4
    for s, shard in enumerate(sharded.shards):
        ref = reference_shard(h1, h2, s, 4, sharded.params.layout)
        assert shard.params == ref.params
        assert np.array_equal(np.asarray(shard.bits), ref.bits)
    assert sharded.inserted == len(h1) == summary["ngrams"]
    pairs = np.stack([h1, h2], 1).view(np.dtype((np.void, 16)))
    assert summary["distinct"] == len(np.unique(pairs))


def test_sharded_answers_like_the_unsharded_filter(ptb):
    _, d, _, (h1, h2) = ptb
    plain, sharded = open_filter(d / "plain.bloom"), open_filter(d / "sharded.bloom")
    assert plain.contains(h1, h2).all() and sharded.contains(h1, h2).all()  # every member
    rng = np.random.default_rng(5)
    p1, p2 = random_probe_hashes(plain, 300_000, rng)  # non-members
    assert np.array_equal(plain.contains(p1, p2), sharded.contains(p1, p2))
    assert not sharded.contains(p1, p2).any()
    a, b = plain.stats(), sharded.stats()
    # blocked: a smaller filter needs a slightly larger noise margin (docs/blocked-layout.md)
    assert plain.params.m <= sharded.params.m <= plain.params.m * (1.0001, 1.005)[
        plain.params.layout == "blocked"]
    assert b["estimated_distinct"] == pytest.approx(a["estimated_distinct"], rel=1e-3)
    assert b["estimated_fpr"] == pytest.approx(a["estimated_fpr"], rel=0.05)
    assert b["inserted"] == a["inserted"]


@pytest.mark.parametrize(("layout", "lowest"), [("classic", 0.9), ("blocked", 0.7)])
def test_false_positive_rates_agree_where_they_can_be_seen(shared_data, tmp_path, layout, lowest):
    """At 1e-2 false positives are visible: the two filters have different ones, at one rate.
    (Blocked shards this small, ~170 lines, are sized with a noise margin that puts them below
    the target: docs/blocked-layout.md.)"""
    src = shared_data / "ptb" / "ptb.valid.txt"
    build_filter(src, tmp_path / "p.bloom", BuildOptions(workers=1, fpr=1e-2, layout=layout))
    build_filter(src, tmp_path / "s.bloom", BuildOptions(workers=1, fpr=1e-2, shards=8,
                                                         layout=layout))
    plain, sharded = open_filter(tmp_path / "p.bloom"), open_filter(tmp_path / "s.bloom")
    probes = 400_000
    p1, p2 = random_probe_hashes(plain, probes, np.random.default_rng(1))
    fp_plain, fp_sharded = plain.contains(p1, p2), sharded.contains(p1, p2)
    for hits, bloom in ((fp_plain, plain), (fp_sharded, sharded)):
        expected = bloom.stats()["estimated_fpr"] * probes
        assert abs(hits.sum() - expected) < 5 * math.sqrt(expected)
        assert lowest * 0.01 * probes < hits.sum() < 1.1 * 0.01 * probes
    assert (fp_plain != fp_sharded).any()  # different sets: "exactly" excludes false positives


def test_one_shard_is_identical_to_the_plain_build(ptb, shared_data, tmp_path):
    src, d, _, _ = ptb
    layout = open_filter(d / "plain.bloom").params.layout
    build_filter(src, tmp_path / "one.bloom", BuildOptions(workers=1, shards=1, max_memory=1 << 30,
                                                           layout=layout))
    assert same_build(d / "plain.bloom", tmp_path / "one.bloom")
    web = shared_data / "webtext" / "webtext.train.jsonl"  # byte ranges, a truncated last line
    opts = dict(workers=1, capacity=700_000, layout=layout)
    build_filter(web, tmp_path / "w1.bloom", BuildOptions(**opts))
    s = build_filter(web, tmp_path / "w2.bloom", BuildOptions(**opts, max_memory=1 << 30))
    assert s["bad_records"] == 1 and s["documents"] == 1408
    assert same_build(tmp_path / "w1.bloom", tmp_path / "w2.bloom")


def test_max_memory_picks_the_fewest_shards_that_fit(ptb, tmp_path):
    src, d, _, _ = ptb
    cap = 1 << 20
    s = build_filter(src, tmp_path / "m.bloom", BuildOptions(workers=1, shards=0, max_memory=cap))
    bloom = open_filter(tmp_path / "m.bloom")
    sizes = [len(shard.bits) for shard in bloom.shards]
    assert len(sizes) == s["shards"] and max(sizes) == s["max_shard_bytes"] <= cap
    assert sum(sizes) > 3 * cap  # the filter is several times the memory allowed
    assert max(a + b for a, b in zip(sizes[::2], sizes[1::2], strict=True)) > cap  # fewest
    assert s["partitions"] >= s["shards"]
    plain = open_filter(d / "plain.bloom")
    p1, p2 = random_probe_hashes(plain, 200_000, np.random.default_rng(2))
    assert not bloom.contains(p1, p2).any()
    assert verify_filter(bloom, 100_000)["hits"] == 0
    with pytest.raises(UserError, match="over --max-memory"):
        build_filter(src, tmp_path / "x.bloom", BuildOptions(workers=1, shards=2, max_memory=cap))


def test_damaged_sets_of_shards_are_refused(ptb, shared_data, tmp_path):
    _, d, _, _ = ptb
    for f in d.glob("sharded.bloom*"):
        shutil.copy(f, tmp_path / f.name)
    out = tmp_path / "sharded.bloom"
    (shard2,) = tmp_path.glob("sharded.bloom.shard-00002-of-00004.*")
    with pytest.raises(UserError, match="shard 2 of 4 of a sharded filter; open its manifest"):
        open_filter(shard2)
    other = tmp_path / "other"
    build_filter(shared_data / "ptb" / "ptb.valid.txt", other / "sharded.bloom",
                 BuildOptions(workers=1, shards=4))
    (theirs,) = other.glob("sharded.bloom.shard-00002-of-00004.*")
    shutil.copy(theirs, shard2)  # the same shard of another build
    with pytest.raises(UserError, match="shard 2 is from a different build"):
        open_filter(out)
    shard2.unlink()
    with pytest.raises(UserError, match="shard 2 of 4 is missing"):
        open_filter(out)
    manifest = json.loads(out.read_text())
    manifest["shards"][0]["inserted"] += 1
    out.write_text(json.dumps(manifest))
    with pytest.raises(UserError, match="corrupt"):
        open_filter(out)


def test_info_and_republishing_over_an_older_build(shared_data, tmp_path):
    src = shared_data / "ptb" / "ptb.valid.txt"
    out = tmp_path / "f.bloom"
    build_filter(src, out, BuildOptions(workers=1, shards=4))
    info = filter_info(out)
    assert info["storage"] == "sharded" and info["shards"] == 4 and info["params"]["k"] == 24
    build_filter(src, out, BuildOptions(workers=1, shards=2))
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 3 and names[0] == "f.bloom"
    assert [re.sub(r"\.\d+-[0-9a-f]{8}$", "", n) for n in names[1:]] == [
        "f.bloom.shard-00000-of-00002", "f.bloom.shard-00001-of-00002"]
    build_filter(src, out, BuildOptions(workers=1, shards=1, max_memory=1 << 30))
    assert [p.name for p in tmp_path.iterdir()] == ["f.bloom"]
    assert isinstance(open_filter(out), BloomFilter)


def test_bad_options_and_too_small_capacity_write_nothing(ptb, tmp_path):
    src, _, _, _ = ptb
    for opts, match in ((dict(shards=3), "power of two"), (dict(shards=0), "needs --max-memory"),
                        (dict(shards=2, capacity=1000), "--capacity 1000 is too small")):
        with pytest.raises(UserError, match=match):
            build_filter(src, tmp_path / "x.bloom", BuildOptions(workers=1, **opts))
    assert list(tmp_path.iterdir()) == []  # no output, no partial shard, no spill left behind


def test_benchmark_overlap_is_the_same_through_a_sharded_filter(ptb, shared_data):
    """The ``overlap`` command's lookup (overlap.per_example) takes either filter unchanged."""
    from overlap.per_example import measure_texts
    from overlap.spans import SpanCoder

    _, d, _, _ = ptb
    lines = (shared_data / "ptb" / "ptb.test.txt").read_text().splitlines()
    ids = [str(i) for i in range(len(lines))]
    rows = [[r.row() for r in measure_texts(ids, lines, open_filter(d / name), SpanCoder("words"))]
            for name in ("plain.bloom", "sharded.bloom")]
    assert rows[0] == rows[1]
    assert sum(r["found"] for r in rows[0]) > 1000  # PTB test shares n-grams with its train split
