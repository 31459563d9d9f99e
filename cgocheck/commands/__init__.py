"""What each command computes: typed results from settings and inputs (no click, no printing)."""
