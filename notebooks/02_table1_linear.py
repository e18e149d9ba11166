# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 02 · Table 1 · Linear evaluation
# Frozen student representations and a linear head (the authors' code recipe, last epoch), multi-label and
# multi-class, PTB-XL and CPSC 2018: ECG-JEPA rb and mb against the randomly initialised encoder (and, where
# the profile adds synthetic ECGs, rb pretrained on real data only).

# %% tags=["parameters"]
profile: str = "smoke"  # smoke | cpu-study | paper
output_dir: str = ""  # default: results/<profile>
seed: int = 0  # pretraining seed; probe seeds are offset from it
epochs: int = 0  # pretraining epochs, 0 means the profile default

# %%
from IPython.display import Markdown, display

from ecgjepa_core.report import claims
from ecgjepa_core.report import figures
from ecgjepa_core.report import markdown as report
from ecgjepa_core.study import tables
from ecgjepa_core.study.study import MB, RB, Study

study = Study(profile, output_dir or None, seed=seed, epochs=epochs)

# %%
table = tables.table1_linear(study)
report.write_table(table, study.output_dir, "table1_linear", "Table 1 · Linear evaluation", [study.profile.table_note])
claims.save_test_scores(study.output_dir, "table1_linear", study.scores)
display(Markdown(report.to_markdown(table)))

# %%
figures.plot_ours_vs_paper(study.figures_dir / "table1_linear_ours_vs_paper.png", table, title="Table 1 · Linear evaluation: ours vs paper")

# %%
y, scores = study.scores[("ECG-JEPA_mb", "PTB-XL", "multi-label", "paper split")]["scores"]
figures.plot_roc_curves(study.figures_dir / "roc_mb_ptbxl_multilabel.png", y, scores, list(study.ptbxl.class_names),
                        title="ECG-JEPA_mb linear probe, PTB-XL multi-label (paper split, first seed)")

# %%
print(report.contrast(table, "ECG-JEPA_mb", "Random init", dataset="PTB-XL", task="multi-label", metric="AUC",
                      setting="paper split"))
print(report.contrast(table, "ECG-JEPA_mb", "ECG-JEPA_rb", dataset="PTB-XL", task="multi-label", metric="AUC",
                      setting="paper split"))
print(report.paper_gap(table))
