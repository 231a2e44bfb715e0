"""Data quality: Great Expectations suites over warehouse partitions, asset checks, Data Docs.

`frames` turns a stored partition into the frame a suite validates (the table plus derived check
columns such as "on the 0.05 grid" or "inside the session"); `suites` declares each suite once;
`validate` runs one suite on one frame; `docs` runs every suite over the warehouse, builds the Data
Docs site and the coverage heatmaps.
"""
