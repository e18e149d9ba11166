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
# # 10 · Table 9 · Readouts: Kim, Weimann and random init at equal compute
# The two published ECG-JEPAs side by side: Kim's (mb, rb) and Weimann & Conrad's, pretrained here on the same
# corpus for the same epochs and batch at sizes whose training steps cost the same (or the files given in
# `encoders`), each also with its paper's own recipe, rb with position-centred targets (a variant that is not in the
# paper), and a random initialisation of each family. Kim's encoder re-adds its positional table before every
# block, so its tokens are mostly position code: mean-pooling them (the paper's readout) can leave a random encoder
# at chance by construction. Every encoder is therefore read three ways on the same PTB-XL folds (1-8 train,
# 9 validation, 10 test), label sets and test records: a linear probe on the mean of the tokens, a linear probe on
# pooled statistics of the tokens (mean, max, sd), and Weimann & Conrad's frozen attentive probe; the row "best
# readout" takes, per encoder, the one with the best validation AUC. The representation diagnostics below say how
# much of each encoder's token variance position explains, whether its features collapsed, and how much of the
# predictor's pretraining loss the record itself (rather than position) lowers. Not a table of either paper; both
# papers' numbers stand beside the rows they match.

# %% tags=["parameters"]
profile: str = "smoke"  # smoke | cpu-study | paper | paper-eval
output_dir: str = ""  # default: results/<profile>
seed: int = 0  # pretraining seed; probe seeds are offset from it
encoders: str = ""  # weights files standing in for the rb / mb / weimann rows (README, Encoders from anywhere)
overrides: str = ""  # profile changes as JSON with dotted keys, e.g. {"pretrain.epochs": 10}

# %%
from IPython.display import Markdown, display

from ecgjepa_core.report import figures
from ecgjepa_core.study.registry import figures_of, findings, publish, show
from ecgjepa_core.study.study import Study

study = Study(profile, output_dir or None, seed=seed, encoders=encoders, overrides=overrides)

# %%
result = publish(study, "table9_kim_vs_weimann")
display(Markdown(show(study, result)))

# %% [markdown]
# The figures: ours beside the paper's values (bars; whiskers: the 95 % CI where the row has one, the
# paper's sd where it gives one), then the ROC curves of one row.

# %%
mb = result.score_of(method="ECG-JEPA_mb", protocol="attentive", ablation="superdiagnostic")
figures.plot_roc_curves(study.figures_dir / "roc_table9_kim_vs_weimann_mb_ptbxl.png", mb.y, mb.scores[0],
                        list(study.ptbxl.class_names), title="ECG-JEPA_mb attentive probe, PTB-XL superdiagnostic")
display(*figures_of(study, result.name))

# %%
display(Markdown((study.output_dir / "representation_diagnostics.md").read_text()))

# %%
display(Markdown(findings(study, result)))
