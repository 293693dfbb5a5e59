"""The `optiad` command line (arrives with the problem-zoo issue)."""
