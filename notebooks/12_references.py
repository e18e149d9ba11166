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
# # 12 · References without self-supervision
# What the labelled PTB-XL records give on their own, on Table 1's splits and test records (multi-label): a 1-D
# ResNet trained from scratch and a logistic regression on hand-crafted ECG features, beside the ECG-JEPA linear
# probes over all their pretraining seeds.

# %% tags=["parameters"]
profile: str = "smoke"  # smoke | cpu-study | paper | paper-eval
output_dir: str = ""  # default: results/<profile>
seed: int = 0  # pretraining seed; probe and training seeds are offset from it
encoders: str = ""  # weights files standing in for the rb / mb rows (README, Encoders from anywhere)
overrides: str = ""  # profile changes as JSON with dotted keys, e.g. {"pretrain.epochs": 10}

# %%
from IPython.display import Markdown, display

from ecgjepa_core.report import figures
from ecgjepa_core.study.references import CNN
from ecgjepa_core.study.registry import figures_of, findings, publish, show
from ecgjepa_core.study.study import Study

study = Study(profile, output_dir or None, seed=seed, encoders=encoders, overrides=overrides)

# %%
result = publish(study, "references")
display(Markdown(show(study, result)))

# %% [markdown]
# The figures: ours beside the paper's values (bars; whiskers: the 95 % CI where the row has one, the
# paper's sd where it gives one), then the ROC curves of one row.

# %%
cnn = result.score_of(method=CNN, split="paper split")
figures.plot_roc_curves(study.figures_dir / "roc_references_cnn_ptbxl.png", cnn.y, cnn.scores[0],
                        list(study.ptbxl.class_names), title="1-D ResNet from scratch, PTB-XL multi-label (first seed)")
display(*figures_of(study, result.name))

# %% [markdown]
# The CNN and the feature model bound what a frozen ECG-JEPA probe has to beat to be worth its pretraining at this
# size; the claim below pairs the CNN with mb on the same test records.

# %%
display(Markdown(findings(study, result)))
