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
profile: str = "smoke"  # smoke | cpu-study | paper | paper-eval
output_dir: str = ""  # default: results/<profile>
seed: int = 0  # pretraining seed; probe seeds are offset from it
encoders: str = ""  # weights files standing in for the rb / mb rows (README, Encoders from anywhere)
overrides: str = ""  # profile changes as JSON with dotted keys, e.g. {"pretrain.epochs": 10}

# %%
from IPython.display import Markdown, display

from ecgjepa_core.study.registry import findings, publish, show
from ecgjepa_core.study.study import Study

study = Study(profile, output_dir or None, seed=seed, encoders=encoders, overrides=overrides)

# %%
result = publish(study, "table8_leads")
display(Markdown(show(result)))

# %%
display(Markdown(findings(study, result)))
