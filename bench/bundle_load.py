"""Measure ``ltrr.serving.load_bundle`` on a published bundle: verify, open, first lookups.

Each repeat runs in a fresh child process (cold imports are not counted: the child imports
``ltrr.serving`` before the clock starts; the page cache is warm after the first repeat),
and times:

- ``load``: ``load_bundle(path)`` — manifest parse and sha256 of every file;
- ``q2e``: reading the Q2E serving table (memory-mapped Parquet) into a ``pyarrow.Table``;
- ``annoy``: memory-mapping ``items.ann`` and one 10-NN query (when the bundle has it).

Usage::

    .venv/bin/python bench/bundle_load.py BUNDLE_DIR [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

CHILD = r"""
import json, sys, time
from ltrr.serving import load_bundle
t0 = time.perf_counter()
bundle = load_bundle(sys.argv[1])
t1 = time.perf_counter()
rows = bundle.q2e_serving().num_rows if bundle.has("q2e") else 0
t2 = time.perf_counter()
annoy = None
if any(a.indexes for a in bundle.manifest.artifacts.values()):
    index = bundle.annoy("items")
    index.get_nns_by_item(0, 10)
    annoy = time.perf_counter() - t2
print(json.dumps({"load": t1 - t0, "q2e": t2 - t1, "annoy": annoy, "q2e_rows": rows,
                  "files": len(bundle.manifest.files), "bytes": bundle.manifest.total_size}))
"""


def main(argv: list[str] | None = None) -> int:
    """Run the repeats and print a summary table (median and max per step)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", help="a bundle folder")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    runs = []
    for _ in range(args.repeats):
        proc = subprocess.run([sys.executable, "-c", CHILD, args.bundle], capture_output=True, text=True, check=True)
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    first = runs[0]
    size = first["bytes"] / 1e6
    print(f"bundle {args.bundle}: {first['files']} files, {size:.1f} MB, q2e rows {first['q2e_rows']:,}")
    for step in ("load", "q2e", "annoy"):
        values = [r[step] for r in runs if r[step] is not None]
        if values:
            print(f"{step:<6} median {statistics.median(values):.3f} s  max {max(values):.3f} s  (n={len(values)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
