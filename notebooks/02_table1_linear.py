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
# # 02 · Table 1 · Linear evaluation
# Frozen student representations and a linear head, multi-label and multi-class, PTB-XL and CPSC 2018: ECG-JEPA
# rb and mb (pretrained here, or the files given in `encoders`) against the randomly initialised encoder (and,
# where the profile adds synthetic ECGs, rb pretrained on real data only).

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
result = publish(study, "table1_linear")
display(Markdown(show(study, result)))

# %% [markdown]
# The caption above says how each number was made; the keys it lists change the protocol (`-p overrides`, or
# `Study(..., overrides=...)` here). To look at such a variant without writing anything under `results/`, build
# it with `compute(study, name)`, as notebook 09 does.
#
# The figures: ours beside the paper's values (bars; whiskers: the 95 % CI where the row has one, the
# paper's sd where it gives one), then the ROC curves of one row.

# %%
mb = result.score_of(method="ECG-JEPA_mb", dataset="PTB-XL", task="multi-label", split="paper split", protocol="linear")
figures.plot_roc_curves(study.figures_dir / "roc_table1_linear_mb_ptbxl.png", mb.y, mb.scores[0],
                        list(study.ptbxl.class_names), title="ECG-JEPA_mb linear probe, PTB-XL multi-label (first seed)")
display(*figures_of(study, result.name))

# %%
display(Markdown(findings(study, result)))
