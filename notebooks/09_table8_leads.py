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
# # 09 · Table 8 · Eight vs twelve leads
# ECG-JEPA rb pretrained on 8 leads (I, II, V1-V6) and on all 12 (III, aVR, aVL, aVF derived from I and II
# where a source lacks them), linear probe on PTB-XL multi-label.

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
table = tables.table8_leads(study)
report.write_table(table, study.output_dir, "table8_leads", "Table 8 · Eight vs twelve leads", [study.profile.table_note])
claims.save_test_scores(study.output_dir, "table8_leads", study.scores)
display(Markdown(report.to_markdown(table)))

# %%
figures.plot_ours_vs_paper(study.figures_dir / "table8_leads_ours_vs_paper.png", table, title="Table 8 · Eight vs twelve leads: ours vs paper")

# %%
print(report.contrast_settings(table, "8 leads, paper split", "12 leads, paper split", metric="AUC"))
print(report.paper_gap(table))
