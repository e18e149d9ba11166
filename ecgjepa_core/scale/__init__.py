"""The paper profile at any data size: official-layout data derived from real records, the rehearsal that runs
``paper`` and ``paper-eval`` on it stage by stage, and how each stage's cost grows (docs/scale.md)."""
