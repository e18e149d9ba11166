"""ecgjepa_core: a faithful, tested re-implementation of the two ECG-JEPAs (Kim 2024; Weimann & Conrad 2024).

Floors, each importing only those above it: ``models`` (configs, CroPA attention, masks, Kim's and
Weimann & Conrad's models), ``checkpoint`` (our format and the authors'), ``data`` (readers,
preprocessing, caches, labels, LUDB delineations), ``training`` (the pretraining loop, schedules,
precision), ``evaluation`` (probes, fine-tuning, baselines, segmentation, metrics), ``report`` (the
papers' numbers, tables, claims, figures, provenance) and ``study`` (profiles, encoder files, the
result tables and their registry). Commands: ``run`` (the notebook series), ``pretrain``, ``bench``.
"""

__version__ = "0.1.0"
