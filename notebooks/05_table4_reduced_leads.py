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
# # 05 · Table 4 · Reduced leads
# Representations from lead II alone and from II + V1 (the leads keep their original positional codes; CroPA
# is restricted to them), linear probe on PTB-XL multi-label.

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
table = tables.table4_reduced_leads(study)
report.write_table(table, study.output_dir, "table4_reduced_leads", "Table 4 · Reduced leads", [study.profile.table_note])
claims.save_test_scores(study.output_dir, "table4_reduced_leads", study.scores)
display(Markdown(report.to_markdown(table)))

# %%
figures.plot_ours_vs_paper(study.figures_dir / "table4_reduced_leads_ours_vs_paper.png", table, title="Table 4 · Reduced leads: ours vs paper")

# %%
print(report.contrast(table, "ECG-JEPA_mb", "ECG-JEPA_rb", dataset="PTB-XL", task="multi-label", metric="AUC",
                      setting="II+V1, paper split"))
print(report.paper_gap(table))
