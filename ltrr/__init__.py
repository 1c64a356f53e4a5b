"""ltrr: learning-to-rank-and-retrieve pipeline (nightly Spark jobs, Airflow DAGs, bundles)."""

__version__ = "0.1.0"
