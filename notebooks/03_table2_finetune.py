# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · Table 2 · Fine-tuning
# Encoder and head trained end to end (the authors' code recipe), multi-class, PTB-XL and CPSC 2018; the same
# architecture trained from scratch is the supervised baseline.

# %% tags=["parameters"]
profile: str = "smoke"  # smoke | cpu-study | paper | paper-eval
output_dir: str = ""  # default: results/<profile>
seed: int = 0  # pretraining seed; probe seeds are offset from it
encoders: str = ""  # weights files standing in for the rb / mb rows (README, Encoders from anywhere)
overrides: str = ""  # profile changes as JSON with dotted keys, e.g. {"pretrain.epochs": 10}

# %%
from IPython.display import Markdown, display

from ecgjepa_core.report import figures
from ecgjepa_core.study.registry import figures_of, findings, publish, show
from ecgjepa_core.study.study import Study

study = Study(profile, output_dir or None, seed=seed, encoders=encoders, overrides=overrides)

# %%
result = publish(study, "table2_finetune")
display(Markdown(show(study, result)))

# %% [markdown]
# The figures: ours beside the paper's values (bars; whiskers: the 95 % CI where the row has one, the
# paper's sd where it gives one), then the ROC curves of one row.

# %%
row, rb = result.first_score(method="ECG-JEPA_rb", dataset="PTB-XL")  # the searched row where a split has one
figures.plot_roc_curves(study.figures_dir / "roc_table2_finetune_rb_ptbxl.png", rb.y, rb.scores[0],
                        list(study.ptbxl.class_names),
                        title=f"ECG-JEPA_rb {row['protocol']}, PTB-XL multi-class ({row['split']})")
display(*figures_of(study, result.name))

# %%
display(Markdown(findings(study, result)))
