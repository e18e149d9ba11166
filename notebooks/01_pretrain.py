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
# # 01 · Pretraining
# ECG-JEPA rb (random masking), mb (multi-block masking) and Weimann & Conrad's model pretrained on the profile's
# corpus for every pretraining seed of the main runs, or found again in `runs/` (a row given as a file in
# `encoders` is not pretrained); the masks, CroPA, the loss curves, the learning curves with collapse diagnostics
# (first seed of each) and the embedding of PTB-XL.

# %% tags=["parameters"]
profile: str = "smoke"  # smoke | cpu-study | paper | paper-eval
output_dir: str = ""  # default: results/<profile>
seed: int = 0  # pretraining seed; probe seeds are offset from it
encoders: str = ""  # weights files standing in for the rb / mb rows (README, Encoders from anywhere)
overrides: str = ""  # profile changes as JSON with dotted keys, e.g. {"pretrain.epochs": 10}

# %%
from IPython.display import Markdown, display

from ecgjepa_core.report import figures, markdown
from ecgjepa_core.report.curves_figure import plot_learning_curves
from ecgjepa_core.study.encoder_export import export_encoders
from ecgjepa_core.study.learning_curves import study_curves, write_verdicts
from ecgjepa_core.study.registry import main_runs, publish_recipe_searches, weimann_runs
from ecgjepa_core.study.study import MB, Study

study = Study(profile, output_dir or None, seed=seed, encoders=encoders, overrides=overrides)

# %% [markdown]
# The pretraining recipe (peak learning rate, warm-up, EMA start) is chosen for this profile's budget where the
# profile searches (`pretrain.search`): the same candidates for Kim rb, Kim mb and Weimann, each one pretraining run
# scored on PTB-XL's validation fold 9, never on the test fold. Every later row of a method trains with its choice.

# %%
display(Markdown(publish_recipe_searches(study)))

# %%
variants = main_runs(study) + weimann_runs(study) if study.can_pretrain else []
summary = study.pretraining_summary(variants)
markdown.write_plain_table(summary, study.output_dir, "pretraining", "Pretraining runs", [study.profile.table_note])
display(Markdown(summary.to_markdown(index=False) if len(summary) else "Nothing pretrained: every row is a given file."))

# %%
shown = [study.figures_dir / name for name in ("masking_strategies.png", "cropa_mask.png", "pretraining_curves.png")]
figures.plot_masking_strategies(shown[0], seed=seed)
figures.plot_cropa_mask(shown[1])
if len(summary):
    figures.plot_pretraining_curves(shown[2], {k: study.runs_dir / r for k, r in zip(summary.variant, summary.run)})
display(*figures.inline(shown[:3 if len(summary) else 2]))

# %% [markdown]
# Learning curves: after every pretraining epoch, a linear probe trained on PTB-XL folds 1-8 and scored on fold 9
# (multi-label AUC), and two collapse measures of the training records' features (effective rank, mean
# per-dimension sd).

# %%
first = [v for v in variants if v.seed == 0]
if first:
    curves, verdicts = study_curves(study, first)
    markdown.write_plain_table(curves, study.output_dir, "learning_curves", "Learning curves and collapse diagnostics",
                               [study.profile.table_note, *verdicts])
    write_verdicts(study.output_dir, verdicts)
    plot_learning_curves(curves, study.figures_dir / "learning_curves.png")
    display(Markdown(curves.round(4).to_markdown(index=False) + "\n\n" + "\n".join("- " + v for v in verdicts)),
            *figures.inline([study.figures_dir / "learning_curves.png"]))

# %% [markdown]
# The final encoders of the first seed of each main row, copied to `encoders/` beside the tables (with their SHA-256
# and the `-p encoders` value that re-evaluates every table on them without pretraining).

# %%
exported = export_encoders(study, first)
display(Markdown(exported.to_markdown(index=False) if len(exported) else "No encoder pretrained here."))

# %%
features = study.features(study.feature_key(MB), study.encoder(MB), study.ptbxl)
figures.plot_embedding(study.figures_dir / "embedding_mb_ptbxl.png", features, study.ptbxl.y,
                       list(study.ptbxl.class_names), title=f"ECG-JEPA_mb ({study.encoder_label(MB)}), PTB-XL",
                       method="pca")
display(*figures.inline([study.figures_dir / "embedding_mb_ptbxl.png"]))

# %%
for row in summary.itertuples():
    print(f"{row.variant}: {row.steps} steps over {row.corpus_records} ECGs in {row.wall_seconds:.0f} s, "
          f"final loss {row.final_loss:.4f}.")
