"""Reports a trader reads: the HTML run report (and comparison), and one trade's chart."""
