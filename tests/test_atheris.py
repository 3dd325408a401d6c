"""A short coverage-guided fuzzing run (atheris) of fuzz/fuzz_message.py, as part of the suite.

Longer runs are by hand (fuzz/README.md). The seeds are the project's fixtures, and real mail
where ../shared/corpora is present."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
atheris = pytest.importorskip("atheris", reason="atheris is not installed (pip install atheris)")


def test_the_fuzzer_finds_no_crash_in_a_short_run(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    subprocess.run([sys.executable, str(ROOT / "fuzz" / "make_seeds.py"), "--into", str(seeds)],
                   check=True, env=env, capture_output=True)
    work = tmp_path / "corpus"
    work.mkdir()
    done = subprocess.run(
        [sys.executable, str(ROOT / "fuzz" / "fuzz_message.py"), str(work), str(seeds),
         "-runs=4000", "-timeout=20", "-rss_limit_mb=3000", f"-artifact_prefix={tmp_path}/"],
        env=env, capture_output=True, text=True, timeout=600)
    crashes = sorted(p.name for p in tmp_path.glob("crash-*"))
    assert done.returncode == 0 and not crashes, (crashes, done.stderr[-3000:])
    assert "Done 4000 runs" in done.stderr
