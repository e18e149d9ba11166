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
# # 08 · Table 7 · Masking strategy and ratio
# Random masking at five ratio ranges and multi-block masking at three, each pretrained and probed linearly on
# PTB-XL multi-label.

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
table = tables.table7_masking(study)
report.write_table(table, study.output_dir, "table7_masking", "Table 7 · Masking strategy and ratio", [study.profile.table_note])
claims.save_test_scores(study.output_dir, "table7_masking", study.scores)
display(Markdown(report.to_markdown(table)))

# %%
figures.plot_ours_vs_paper(study.figures_dir / "table7_masking_ours_vs_paper.png", table, title="Table 7 · Masking strategy and ratio: ours vs paper")

# %%
print(report.best_row(table, metric="AUC", setting_contains="paper split"))
print(report.paper_gap(table))
