"""WikiText-2 and WikiText-103 (Merity et al. 2016): tokenized ``.tokens`` and ``raw`` files.

An example is an article: a top-level heading line `` = Title = `` and every line up to the
next one. A heading counts only between two blank lines, as the release writes them: a body
line such as `` = 1 <unk> and <unk> C = `` (a wrapped formula) is not one. With that rule the
test and valid splits have 60 articles each and WikiText-2 train 600, the published numbers.
Blank lines before the first heading (the file's first line) belong to no article.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from contamkit.benchmarks.readers import iter_lines
from contamkit.benchmarks.spec import Benchmark, DataFile, Item, Remote, Variant, index_key

BASE_URL = "https://wikitext.smerity.com/"
# sha256 of the zips, recorded by HuggingFace datasets (wikitext/dataset_infos.json) for the
# original research.metamind.io S3 URLs, which now refuse. The author's own site above is
# expected to serve the same archives; a different file fails the check instead of loading.
ZIP_SHA256 = {
    "wikitext-2-v1.zip": "92675f1d63015c1c8b51f1656a52d5bdbc33aafa60cc47a218a66e7ee817488c",
    "wikitext-2-raw-v1.zip": "ef7edb566e3e2b2d31b29c1fdb0c89a4cc683597484c3dc2517919c615435a11",
    "wikitext-103-v1.zip": "242ba0f20b329cfdf1ccc61e9e9e5b59becf189db7f7a81cd2a0e2fc31539590",
    "wikitext-103-raw-v1.zip": "91c00ae287f0d699e18605c84afc9e45c192bc6b7797ff8837e5474655a33794",
}
# sha256 of single members, where an independent manifest confirmed our copy (SOURCES.md).
MEMBER_SHA256 = {
    "wikitext-2-raw/wiki.test.raw": (
        "173c87a53759e0201f33e0ccf978e510c2042d7f2cb78229d9a50d79b9e7dd08"
    ),
    "wikitext-103/wiki.test.tokens": (
        "56db52eb157b1ab5c89646eef70510c1eca6e12a3bfdb99f0d6b05b4eacb75b9"
    ),
}
# pytorch/examples ships WikiText-2 as train.txt/valid.txt/test.txt (our shared copy too).
_PYTORCH_NAMES = {"train": "train.txt", "valid": "valid.txt", "test": "test.txt"}
_HEADING = re.compile(r" = [^=].* = \n")


def _files(size: str, variant: str) -> dict[str, tuple[DataFile, ...]]:
    suffix = "" if variant == "tokens" else "-raw"
    folder = f"wikitext-{size}{suffix}"
    archive = f"wikitext-{size}{suffix}-v1.zip"
    files = {}
    for split in ("train", "valid", "test"):
        name = f"wiki.{split}.{variant}"
        member = f"{folder}/{name}"
        aliases = (_PYTORCH_NAMES[split],) if (size, variant) == ("2", "tokens") else ()
        remote = Remote(BASE_URL + archive, ZIP_SHA256[archive], member=member)
        files[split] = (DataFile(name, folder, remote, aliases, MEMBER_SHA256.get(member)),)
    return files


def is_blank(line: str | None) -> bool:
    return line is None or not line.strip()


def split_articles(lines: Iterable[str]) -> Iterator[list[str]]:
    """Group lines into articles (see the module docstring), streaming."""
    article: list[str] = []
    prev: str | None = None  # None stands for "before the file": as good as a blank line
    window = iter(lines)
    cur = next(window, None)
    while cur is not None:
        nxt = next(window, None)
        if _HEADING.fullmatch(cur) and is_blank(prev) and nxt is not None and is_blank(nxt):
            if any(not is_blank(line) for line in article):
                yield article
            article = []
        article.append(cur)
        prev, cur = cur, nxt
    if any(not is_blank(line) for line in article):
        yield article


def title(article: list[str]) -> str | None:
    """The heading's text, e.g. "Robert <unk>"; None for text before the first heading."""
    first = article[0]
    return first.strip()[1:-1].strip() if _HEADING.fullmatch(first) else None


def read_articles(paths: Sequence[Path], split: str) -> Iterator[Item]:
    (path,) = paths
    lines = (line for _, line in iter_lines(path))
    for i, article in enumerate(split_articles(lines)):
        yield index_key(i), "".join(article), {"title": title(article)}


def _benchmark(size: str, description: str) -> Benchmark:
    return Benchmark(
        name=f"wikitext{size}",
        description=description,
        example="one article (' = Title = ' heading to the next); field title",
        variant_specs=tuple(Variant(v, read_articles, _files(size, v)) for v in ("tokens", "raw")),
    )


BENCHMARKS = (
    _benchmark("2", "WikiText-2 (600/60/60 Wikipedia articles), .tokens or raw"),
    _benchmark("103", "WikiText-103 (28475/60/60 Wikipedia articles), .tokens or raw"),
)
