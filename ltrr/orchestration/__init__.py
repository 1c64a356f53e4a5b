"""Helpers the DAG tasks and ``ltrr run`` call: input checks, gates, local DAG runs."""
