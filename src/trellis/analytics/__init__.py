"""Network analytics on the de-identified dataset ``trellis-network/1``.

Ibis expressions over Parquet: DuckDB by default (one machine), PySpark unchanged for a cluster
(``trellis[spark]``). The measures are defined once in :mod:`trellis.core.network` (CLINICAL.md
§3, §9); the engine computes per-episode flags and per-day counts, and only small aggregate
tables reach Python, where the statistics are computed from counts.
"""
