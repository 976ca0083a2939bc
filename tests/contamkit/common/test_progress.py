"""Log lines never share a line with a progress bar, in a terminal or not; ``-v`` adds per-file
progress and timing to a build."""

import json
import os
import subprocess
import sys

from contamkit.common.paths import REPO_ROOT


def test_warnings_and_debug_lines_stand_on_their_own_lines(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    good = json.dumps({"text": "one two three four five six seven eight nine ten"})
    for name in ("a.jsonl", "b.jsonl"):
        (corpus / name).write_text(good + "\n" + '{"text": "truncated\n' + good + "\n")
    env = {**os.environ, "CONTAM_PROGRESS": "1"}  # bars on, into a pipe (not a terminal)
    r = subprocess.run([sys.executable, "cli.py", "-v", "build-filter", str(corpus), "-o",
                        str(tmp_path / "f.bloom"), "--workers", "1"], cwd=REPO_ROOT,
                       capture_output=True, env=env)  # bytes: text mode would turn \r into \n
    stderr = r.stderr.decode()
    assert r.returncode == 0, stderr
    assert "\r" in stderr  # the bars were drawn
    lines = stderr.split("\n")
    warnings = [line for line in lines if "malformed JSON line skipped" in line]
    assert len(warnings) == 2 and all(w.startswith("warning: ") for w in warnings)
    done = [line for line in lines if " done (" in line]
    assert [line.split()[1] for line in done] == [str(corpus / "a.jsonl"), str(corpus / "b.jsonl")]
    assert all(line.split()[0] in ("counting:", "building:") and
               line.endswith("s after the start") for line in done)
    assert lines[-2].startswith("built ")  # the summary, last, on its own line
