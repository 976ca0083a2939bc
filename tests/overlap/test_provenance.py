"""A filter records what it was built from: files, sizes, mtimes, checksums, counts, date,
command and versions; ``info`` shows it, a long list lives in a sidecar checked by digest."""

import datetime as dt
import gzip
import json
import subprocess
import sys
from importlib import metadata

import xxhash

from contamkit.cli import main
from contamkit.common.paths import REPO_ROOT
from overlap.normalize import NORMALIZER_VERSION

TEXT = "one two three four five six seven eight nine ten eleven twelve"


def cli(*args):
    return subprocess.run([sys.executable, "cli.py", *map(str, args)], cwd=REPO_ROOT,
                          capture_output=True, text=True)


def run(capsys, *args):
    """The command in this process (no interpreter start-up): (exit status, stdout, stderr)."""
    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def expected_checksum(path):
    """xxh3-64 of the size then the first, middle and last MiB (here: the whole small file)."""
    data = path.read_bytes()
    return xxhash.xxh3_64(str(len(data)).encode() + data).hexdigest()


def expected_record(path, root):
    st = path.stat()
    return {"path": path.relative_to(root).as_posix(), "bytes": st.st_size,
            "mtime": dt.datetime.fromtimestamp(st.st_mtime, dt.UTC).isoformat(
                timespec="seconds"),
            "checksum": expected_checksum(path)}


def test_header_records_the_corpus_and_info_shows_it(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "a.txt").write_text(TEXT)
    (corpus / "sub" / "b.jsonl").write_text(
        json.dumps({"text": TEXT}) + "\n" + "{broken\n" + json.dumps({"other": 1}) + "\n"
        + json.dumps({"text": TEXT + " more"}) + "\n")
    with gzip.open(corpus / "c.jsonl.gz", "wt") as f:
        f.write(json.dumps({"text": TEXT}) + "\n")
    (corpus / "notes.md").write_text("not a corpus file")
    out = tmp_path / "f.bloom"
    r = cli("build-filter", corpus, "-o", out, "--workers", "1")
    assert r.returncode == 0, r.stderr
    info = json.loads(run(capsys, "info", out, "--json")[1])
    prov = info["provenance"]
    files = sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix != ".md")
    assert prov["files"] == [expected_record(p, corpus) for p in files]
    assert prov["file_count"] == 3 and prov["bytes"] == sum(p.stat().st_size for p in files)
    # a.txt 1 + b.jsonl 2 good of 4 + c 1; bad: the broken line and the record without text
    assert (prov["documents"], prov["records"], prov["bad_records"]) == (4, 6, 2)
    assert prov["skipped_files"] == 1  # notes.md
    assert prov["corpus"] == str(corpus.resolve())
    assert prov["command"][:2] == ["cli.py", "build-filter"] and str(out) in prov["command"]
    assert prov["toolkit_version"] == metadata.version("contamkit")
    assert prov["normalizer"] == NORMALIZER_VERSION
    built = dt.datetime.fromisoformat(prov["built"])
    assert abs((dt.datetime.now(dt.UTC) - built).total_seconds()) < 600

    text = run(capsys, "info", out)[1]
    assert "provenance:" in text and "files (3):" in text and "sub/b.jsonl" in text
    assert "inserted counts every n-gram occurrence added, repeats included" in text


def test_long_file_list_goes_to_a_checked_sidecar(tmp_path, capsys):
    corpus = tmp_path / "many"
    corpus.mkdir()
    for i in range(70):
        (corpus / f"doc{i:03d}.txt").write_text(f"{TEXT} number {i}")
    out = tmp_path / "many.bloom"
    assert run(capsys, "build-filter", corpus, "-o", out, "--workers", "1")[0] == 0
    (sidecar,) = tmp_path.glob("many.bloom.files-*.json")
    info = json.loads(run(capsys, "info", out, "--json")[1])
    prov = info["provenance"]
    assert prov["files_sidecar"] == sidecar.name and prov["file_count"] == 70
    assert [f["path"] for f in prov["files"]] == [f"doc{i:03d}.txt" for i in range(70)]
    listed = json.loads(sidecar.read_text())["files"]
    digest = "xxh3_128:" + xxhash.xxh3_128_hexdigest(json.dumps(listed, sort_keys=True).encode())
    assert prov["files_digest"] == digest
    assert "... and 50 more" in run(capsys, "info", out)[1]

    # a rebuild from another corpus leaves one sidecar, its own
    (corpus / "doc000.txt").write_text(TEXT + " changed")
    assert run(capsys, "build-filter", corpus, "-o", out, "--workers", "1")[0] == 0
    (new,) = tmp_path.glob("many.bloom.files-*.json")
    assert new != sidecar

    data = json.loads(new.read_text())
    data["files"][0]["bytes"] += 1
    new.write_text(json.dumps(data))
    code, _, err = run(capsys, "info", out)
    assert code == 2 and err.startswith(f"error: {new}: file list does not match")
    new.unlink()
    code, _, err = run(capsys, "info", out)
    assert code == 2 and "cannot read the filter's corpus file list" in err


def test_sharded_manifest_records_the_corpus(shared_data, tmp_path, capsys):
    out = tmp_path / "v.bloom"
    src = shared_data / "ptb" / "ptb.valid.txt"
    code, _, err = run(capsys, "build-filter", src, "-o", out, "--workers", "1", "--shards", "2")
    assert code == 0, err
    manifest = json.loads(out.read_text())
    prov = manifest["provenance"]
    assert src.stat().st_size < 2**20  # read whole by the fast checksum
    assert prov["files"] == [expected_record(src, src.parent)]
    assert prov["documents"] == 1 and prov["file_count"] == 1
    assert json.loads(run(capsys, "info", out, "--json")[1])["provenance"] == prov


def test_overlap_copies_provenance(tmp_path, capsys):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(json.dumps({"text": TEXT}) + "\n")
    out = tmp_path / "c.bloom"
    assert run(capsys, "build-filter", corpus, "-o", out, "--workers", "1")[0] == 0
    bench = tmp_path / "b.jsonl"
    bench.write_text(json.dumps({"text": TEXT}) + "\n")
    code, _, err = run(capsys, "overlap", "--bench", "jsonl", "--bench-path", bench, "--filter",
                       out, "--out", tmp_path / "ov")
    assert code == 0, err
    header = json.loads(run(capsys, "info", out, "--json")[1])["provenance"]
    for summary in (tmp_path / "ov" / "summary.json", tmp_path / "ov" / "jsonl" / "summary.json"):
        assert json.loads(summary.read_text())["filter"]["provenance"] == header
    html = (tmp_path / "ov" / "report.html").read_text()
    assert f"Corpus: {corpus}: 1 files" in html and " build-filter " in html
