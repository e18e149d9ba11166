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

from ecgjepa_core.study.overrides import parse_overrides
from ecgjepa_core.study.registry import compute, figures_of, findings, publish, show
from ecgjepa_core.study.study import Study

study = Study(profile, output_dir or None, seed=seed, encoders=encoders, overrides=overrides)

# %%
result = publish(study, "table8_leads")
display(Markdown(show(study, result)))

# %% [markdown]
# The figures: ours beside the paper's values (bars; whiskers: the 95 % CI where the row has one, the
# paper's sd where it gives one).

# %%
display(*figures_of(study, result.name))

# %%
display(Markdown(findings(study, result)))

# %% [markdown]
# ## Exploring without writing anything
# `publish` writes the table under `results/<profile>/`; `compute(study, name)` builds the same table and only returns
# it, so a variant of the protocol can be looked at beside the published one without touching the results. Open a
# `Study` with other values of the keys listed in the caption above (on top of this run's `overrides`) and compare.
# Here: the same comparison read with the paper's probe recipe (`evaluation.probe_recipe`) instead of the profile's.
# The encoders are the same pretraining runs, found again in `runs/`.

# %%
paper_probe = Study(profile, output_dir or None, seed=seed, encoders=encoders,
                    overrides={**parse_overrides(overrides), "evaluation.probe_recipe": "paper"})
display(Markdown(show(paper_probe, compute(paper_probe, "table8_leads"))))
