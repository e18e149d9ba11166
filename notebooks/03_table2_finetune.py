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
# # 03 · Table 2 · Fine-tuning (multi-class)
# The encoder and a linear head are fine-tuned with the authors' recipe (0.67-40 Hz filters, RandAugment); the
# supervised baseline trains the same architecture from scratch. The standard PTB-XL split picks the epoch on
# its validation fold; the paper split reports the last epoch.

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
table = tables.table2_finetune(study)
report.write_table(table, study.output_dir, "table2_finetune", "Table 2 · Fine-tuning (multi-class)", [study.profile.table_note])
claims.save_test_scores(study.output_dir, "table2_finetune", study.scores)
display(Markdown(report.to_markdown(table)))

# %%
figures.plot_ours_vs_paper(study.figures_dir / "table2_finetune_ours_vs_paper.png", table, title="Table 2 · Fine-tuning (multi-class): ours vs paper")

# %%
y, scores = study.scores[("ECG-JEPA_rb", "PTB-XL", "multi-class", "paper split")]["scores"]
figures.plot_roc_curves(study.figures_dir / "roc_rb_finetune_ptbxl_multiclass.png", y, scores,
                        list(study.ptbxl.class_names), title="ECG-JEPA_rb fine-tuned, PTB-XL multi-class (paper split)")

# %%
print(report.contrast(table, "ECG-JEPA_rb", "Supervised", dataset="PTB-XL", task="multi-class",
                      metric="AUC (one-vs-rest)", setting="paper split"))
print(report.paper_gap(table))
