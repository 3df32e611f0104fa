"""The tests' copy of the shared corpus is the shared corpus."""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpus"


@pytest.mark.skipif(not SHARED.is_dir(), reason="no ../shared/corpus next to this clone")
def test_the_copy_matches_the_shared_corpus():
    for shared in SHARED.iterdir():
        assert (ROOT / "tests" / "files" / "corpus" / shared.name).read_bytes() == shared.read_bytes(), shared.name
