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
# # 11 · Table 10 · Segmentation
# P, QRS and T delineated per sample on LUDB from ECG-JEPA tokens (linear head on the frozen encoder, and
# fine-tuned), against its cardiologists, beside a 1-D U-Net from scratch and neurokit2's delineator.

# %% tags=["parameters"]
profile: str = "smoke"  # smoke | cpu-study | paper | paper-eval
output_dir: str = ""  # default: results/<profile>
seed: int = 0  # pretraining seed; probe seeds are offset from it
encoders: str = ""  # weights files standing in for the rb / mb rows (README, Encoders from anywhere)
overrides: str = ""  # profile changes as JSON with dotted keys, e.g. {"pretrain.epochs": 10}

# %%
from IPython.display import Markdown, display

from ecgjepa_core.study.registry import figures_of, findings, publish, show
from ecgjepa_core.study.study import Study

study = Study(profile, output_dir or None, seed=seed, encoders=encoders, overrides=overrides)

# %%
result = publish(study, "table10_segmentation")
display(Markdown(show(study, result)))

# %% [markdown]
# The figures: ours beside the paper's values (bars; whiskers: the 95 % CI where the row has one, the
# paper's sd where it gives one), then one test record with the cardiologists' segments and the predicted ones.

# %%
display(*figures_of(study, result.name))

# %%
display(Markdown(findings(study, result)))
