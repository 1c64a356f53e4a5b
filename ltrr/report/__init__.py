"""Human-readable summaries and reports of pipeline runs."""
