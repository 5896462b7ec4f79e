"""The pure linkage core imports no database, web or Spark, nor the runner (linkage/README.md).

(Splink itself imports the duckdb module on import; nothing here executes SQL.)
"""

from __future__ import annotations

import subprocess
import sys


def test_core_imports_no_database_web_or_engine():
    code = (
        "import sys\n"
        "import athar.linkage.spec, athar.linkage.features, athar.linkage.comparisons\n"
        "import athar.linkage.clustering, athar.linkage.explain, athar.linkage.evaluate\n"
        "bad = [m for m in ('sqlalchemy', 'fastapi', 'pyspark', 'athar.store',\n"
        "       'athar.services', 'athar.linkage.runner') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
