"""Where files are found: explicit path > cache > shared data dir; offline, which file where."""

from __future__ import annotations

import re
import shutil

import pytest

from contamkit.benchmarks import load_benchmark, open_benchmark
from contamkit.common.errors import UserError


@pytest.fixture
def no_shared(tmp_path, monkeypatch):
    empty = tmp_path / "no-shared-data"
    empty.mkdir()
    monkeypatch.setenv("CONTAM_DATA_DIR", str(empty))
    return empty


def test_shared_data_dir_is_found_without_flags(shared_data):
    assert open_benchmark("ptb").paths == [shared_data / "ptb" / "ptb.test.txt"]


def test_cache_comes_before_shared_data(shared_data, empty_cache):
    from contamkit.benchmarks.load import open_benchmark

    cached = empty_cache / "ptb" / "ptb.test.txt"
    cached.parent.mkdir(parents=True)
    shutil.copy(shared_data / "ptb" / "ptb.test.txt", cached)
    assert open_benchmark("ptb").paths == [cached]
    cached.write_text(" one changed line \n")  # a cached download is checked before use
    with pytest.raises(UserError, match="differs from the pinned release"):
        load_benchmark("ptb")


def test_explicit_path_comes_first(shared_data, empty_cache, tmp_path):
    (empty_cache / "ptb").mkdir(parents=True)
    shutil.copy(shared_data / "ptb" / "ptb.valid.txt", empty_cache / "ptb" / "ptb.test.txt")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "ptb.test.txt").write_text(" mine \n")
    assert [e.text for e in load_benchmark("ptb", path=mine)] == [" mine "]
    assert [e.text for e in load_benchmark("ptb", path=mine / "ptb.test.txt")] == [" mine "]


def test_directory_in_our_layout_and_pytorch_names(shared_data):
    # --bench-path may be the shared root (looked up in its subdir) or the folder itself,
    # where WikiText-2 goes by pytorch/examples' test.txt
    assert open_benchmark("wikitext2", path=shared_data).paths == [
        shared_data / "wikitext-2" / "test.txt"
    ]
    assert open_benchmark("wikitext2", path=shared_data / "wikitext-2").paths == [
        shared_data / "wikitext-2" / "test.txt"
    ]


def test_offline_message_says_which_file_goes_where(no_shared, empty_cache):
    with pytest.raises(UserError) as e:
        load_benchmark("coqa")
    message = str(e.value)
    assert message.startswith(f"{empty_cache / 'coqa' / 'coqa-dev-v1.0.json'}: coqa valid")
    assert "needs coqa-dev-v1.0.json, not found" in message
    assert "--download" in message
    assert "https://nlp.stanford.edu/data/coqa/coqa-dev-v1.0.json" in message
    assert not (empty_cache / "coqa").exists()  # nothing is created without --download


def test_offline_message_for_an_archive_member(no_shared, empty_cache):
    with pytest.raises(UserError) as e:
        load_benchmark("wikitext103", "train")
    assert str(e.value).startswith(f"{empty_cache / 'wikitext103' / 'wiki.train.tokens'}:")
    assert "wikitext-103/wiki.train.tokens in https://wikitext.smerity.com/wikitext-103-v1.zip" in (
        str(e.value)
    )


def test_missing_file_in_explicit_directory(tmp_path):
    with pytest.raises(
        UserError, match=rf"^{re.escape(str(tmp_path / 'ptb.valid.txt'))}: ptb valid \(text\)"
    ):
        load_benchmark("ptb", "valid", path=tmp_path)
