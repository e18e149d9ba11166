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
# # 01 · Pretraining (ECG-JEPA rb and mb)
# Both masking strategies are pretrained on the profile's corpus (resumed if interrupted, reused
# if already done). Figures: the two masking strategies, the CroPA mask, the training curves, and
# a 2-D map of the frozen mb representations of PTB-XL coloured by superclass.

# %% tags=["parameters"]
profile: str = "smoke"  # smoke | cpu-study | paper
output_dir: str = ""  # default: results/<profile>
seed: int = 0  # pretraining seed; probe seeds are offset from it
epochs: int = 0  # pretraining epochs, 0 means the profile default

# %%
from IPython.display import Markdown, display

from ecgjepa_core.report import figures
from ecgjepa_core.report import markdown as report
from ecgjepa_core.study import tables
from ecgjepa_core.study.study import MB, RB, Study

study = Study(profile, output_dir or None, seed=seed, epochs=epochs)

# %%
summary = study.pretraining_summary([RB, MB])
report.write_plain_table(summary, study.output_dir, "pretraining", "Pretraining runs", [study.profile.table_note])
display(Markdown(summary.to_markdown(index=False)))

# %%
figures.plot_masking_strategies(study.figures_dir / "masking_strategies.png", seed=seed)

# %%
figures.plot_cropa_mask(study.figures_dir / "cropa_mask.png")

# %%
figures.plot_pretraining_curves(study.figures_dir / "pretraining_curves.png",
                                {v.method: study.runs_dir / r for v, r in zip([RB, MB], summary["run"])})

# %%
features = study.features(MB.key, study.encoder(MB), study.ptbxl)
figures.plot_embedding(study.figures_dir / "embedding_mb_ptbxl.png", features, study.ptbxl.y,
                       list(study.ptbxl.class_names), title="ECG-JEPA_mb representations of PTB-XL", method="pca")

# %%
for row in summary.itertuples():
    print(f"{row.method}: {row.steps} steps over {row.corpus_records} ECGs in {row.wall_seconds:.0f} s, "
          f"final loss {row.final_loss:.4f}.")
