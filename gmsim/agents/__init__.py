"""People and employers held as arrays, with Mesa-style agent views over single rows."""
