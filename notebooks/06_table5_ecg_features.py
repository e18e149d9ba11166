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
# # 06 · Table 5 · ECG features
# Heart rate and QRS duration regressed linearly on frozen representations of PTB-XL. The labels come from our
# neurokit2-based delineator; its own error against LUDB's cardiologists (last rows) is the floor below which
# no model can be judged.

# %% tags=["parameters"]
profile: str = "smoke"  # smoke | cpu-study | paper
output_dir: str = ""  # default: results/<profile>
seed: int = 0  # pretraining seed; probe seeds are offset from it
epochs: int = 0  # pretraining epochs, 0 means the profile default

# %%
from IPython.display import Markdown, display

from ecgjepa_core.report import figures
from ecgjepa_core.report import markdown as report
from ecgjepa_core.study import tables
from ecgjepa_core.study.study import MB, RB, Study

study = Study(profile, output_dir or None, seed=seed, epochs=epochs)

# %%
labels = study.ecg_feature_labels()
ludb = study.ludb_validation()
print(f"labels: {labels.heart_rate.notna().sum()} heart rates and {labels.qrs_duration.notna().sum()} QRS durations "
      f"of {len(labels)} records; failures by reason: {labels.reason[labels.reason.fillna('') != ''].value_counts().to_dict()}")
table = tables.table5_ecg_features(study, labels, ludb)
report.write_table(table, study.output_dir, "table5_ecg_features", "Table 5 · ECG features", [study.profile.table_note])
display(Markdown(report.to_markdown(table)))

# %%
figures.plot_ours_vs_paper(study.figures_dir / "table5_ecg_features_ours_vs_paper.png", table, title="Table 5 · ECG features: ours vs paper")

# %%
print(report.contrast(table, "ECG-JEPA_mb", "Random init", dataset="PTB-XL", task="heart rate", metric="MAE",
                      setting="paper split"))
print(report.paper_gap(table))
