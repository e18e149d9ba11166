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
# # 07 · Table 6 · CroPA ablation
# ECG-JEPA rb and mb pretrained with and without Cross-Pattern Attention (plain full attention in the encoders),
# evaluated by linear probe and by fine-tuning: PTB-XL multi-class AUC.

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
table = tables.table6_cropa(study)
report.write_table(table, study.output_dir, "table6_cropa", "Table 6 · CroPA ablation", [study.profile.table_note])
claims.save_test_scores(study.output_dir, "table6_cropa", study.scores)
display(Markdown(report.to_markdown(table)))

# %%
figures.plot_ours_vs_paper(study.figures_dir / "table6_cropa_ours_vs_paper.png", table, title="Table 6 · CroPA ablation: ours vs paper")

# %%
for method in ("ECG-JEPA_rb", "ECG-JEPA_mb"):
    for protocol in ("linear", "finetune"):
        print(report.contrast_settings(table, f"cropa=yes, {protocol}, paper split", f"cropa=no, {protocol}, paper split",
                                       method=method, metric="AUC (one-vs-one)"))
print(report.paper_gap(table))
