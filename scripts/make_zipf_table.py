"""Write monitor/data/zipf_en.bin, the compact English word-frequency table monitor/data/zipf.py reads.

    python scripts/make_zipf_table.py

wordfreq keeps its English list (321,180 words) as a dict of str -> float once first used: about 37 MiB
of the service's resident memory. The same list fits in 3.2 MB as two arrays sorted by a 64-bit hash of
the word: the hashes, and each word's frequency in centibels as wordfreq stores it (its cBpack bucket).
Run it again after upgrading wordfreq; tests/stages/test_stories.py checks the table against wordfreq.
"""

from __future__ import annotations

import sys
from importlib.metadata import version
from pathlib import Path

import wordfreq

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from monitor.data.zipf import TABLE_PATH, word_hash, write_table  # noqa: E402


def main() -> int:
    buckets = wordfreq.get_frequency_list("en")
    centibels = {word_hash(word): index for index, bucket in enumerate(buckets) for word in bucket}
    if len(centibels) != sum(map(len, buckets)):
        raise SystemExit("two words share a 64-bit hash: widen word_hash")
    write_table(TABLE_PATH, centibels)
    print(f"{TABLE_PATH.relative_to(REPO)}: {len(centibels):,} words from wordfreq {version('wordfreq')}, "
          f"{TABLE_PATH.stat().st_size / 1e6:.1f} MB")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
