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
# # 05 · Table 4 · Reduced leads
# Representations from lead II alone and from II + V1 (the leads keep their original positional codes; CroPA
# is restricted to them), linear probe on PTB-XL multi-label.

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
result = publish(study, "table4_reduced_leads")
display(Markdown(show(study, result)))

# %% [markdown]
# The figures: ours beside the paper's values (bars; whiskers: the 95 % CI where the row has one, the
# paper's sd where it gives one).

# %%
display(*figures_of(study, result.name))

# %%
display(Markdown(findings(study, result)))
