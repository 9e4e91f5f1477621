"""Great Expectations, imported without its Spark support.

When pyspark is installed (the `spark` extra), importing Great Expectations imports pyspark and
pyspark.sql.connect: seconds of start-up for a gate that never uses GX's Spark datasource, and
in a process whose `__main__` has no file (a pytest-xdist worker) pyspark.sql.connect takes
itself for a doctest run and exits the process. Import this module before anything imports
great_expectations: GX then records Spark as not installed, and pyspark stays importable for
the code that needs it (orchestration/engines/spark.py, in child processes of its own).
"""

import sys

_blocked = "pyspark" not in sys.modules
if _blocked:
    sys.modules["pyspark"] = None  # type: ignore[assignment]  # `import pyspark` fails
try:
    import great_expectations  # noqa: F401
finally:
    if _blocked:
        sys.modules.pop("pyspark", None)
