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
# # 00 · Data
# Every dataset of the profile is read in its official layout, passed through the profile's
# recipe and stored in a prepared cache (rebuilt whenever the recipe or the source changes).
# The table counts the records found, prepared and used for pretraining, and every skip by reason.

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
summary = study.data_summary()
report.write_plain_table(summary, study.output_dir, "data", "Data used in this run", [study.profile.table_note])
display(Markdown(summary.drop(columns=["recipe_fingerprint", "source_fingerprint"]).to_markdown(index=False)))

# %%
ptbxl = study.ptbxl
first = ptbxl.x(ptbxl.rows([ptbxl.records["record_id"].iloc[0]]))[0]
figures.plot_ecg(study.figures_dir / "ecg_example.png", first, ["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"],
                 title=f"PTB-XL record {ptbxl.records['ecg_id'].iloc[0]} as the model sees it (8 leads, 250 Hz)")

# %%
print(f"{int(summary['used_for_pretraining'].sum())} ECGs enter pretraining from {len(summary) - 2} sources; "
      f"{int(summary['skipped'].sum())} records were skipped, each with its reason above.")
print(f"Downstream: {len(study.ptbxl.records)} PTB-XL and {len(study.cpsc.records)} CPSC 2018 records.")
