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
# # 00 · Data
# Every source of the profile prepared into a cache: records found, prepared and used, skips by reason, and
# one record as the model sees it.

# %% tags=["parameters"]
profile: str = "smoke"  # smoke | cpu-study | paper | paper-eval
output_dir: str = ""  # default: results/<profile>
seed: int = 0  # pretraining seed; probe seeds are offset from it
encoders: str = ""  # weights files standing in for the rb / mb rows (README, Encoders from anywhere)
overrides: str = ""  # profile changes as JSON with dotted keys, e.g. {"pretrain.epochs": 10}

# %%
from IPython.display import Markdown, display

from ecgjepa_core.report import figures, markdown
from ecgjepa_core.study.study import Study

study = Study(profile, output_dir or None, seed=seed, encoders=encoders, overrides=overrides)

# %%
summary = study.data_summary()
markdown.write_plain_table(summary, study.output_dir, "data", "Data used in this run", [study.profile.table_note])
display(Markdown((study.output_dir / "data.md").read_text()))

# %%
ptbxl = study.ptbxl
first = ptbxl.x(ptbxl.rows([ptbxl.records["record_id"].iloc[0]]))[0]
figures.plot_ecg(study.figures_dir / "ecg_example.png", first, ["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"],
                 title=f"PTB-XL record {ptbxl.records['ecg_id'].iloc[0]} as the model sees it (8 leads, 250 Hz)")
display(*figures.inline([study.figures_dir / "ecg_example.png"]))

# %%
print(f"{int(summary['used_for_pretraining'].sum())} ECGs enter pretraining from {len(summary) - 2} sources; "
      f"{int(summary['skipped'].sum())} records were skipped, each with its reason above.")
print(f"Downstream: {len(study.ptbxl.records)} PTB-XL and {len(study.cpsc.records)} CPSC 2018 records.")
