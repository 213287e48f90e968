"""Reports of analysed runs: plots (and, later, HTML and compare)."""
