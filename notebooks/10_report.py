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
# # 10 · Report
# Gathers the tables written by notebooks 00–09 into `REPORT.md`, beside the paper's numbers, with every
# deviation of this profile from the paper, every pretraining run, and a verdict on each of the paper's
# claims from a paired bootstrap of the two rows it compares.

# %% tags=["parameters"]
profile: str = "smoke"  # smoke | cpu-study | paper
output_dir: str = ""  # default: results/<profile>
seed: int = 0  # pretraining seed; probe seeds are offset from it
epochs: int = 0  # pretraining epochs, 0 means the profile default

# %%
from IPython.display import Markdown, display

from ecgjepa_core.report import claims
from ecgjepa_core.report import markdown as report
from ecgjepa_core.study import tables
from ecgjepa_core.study.study import Study

study = Study(profile, output_dir or None, seed=seed, epochs=epochs)

# %%
runs = study.pretraining_summary(tables.pretrained_variants(study))
report.write_plain_table(runs, study.output_dir, "pretraining_runs", "Every pretraining run of this study",
                         [study.profile.table_note])
display(Markdown(runs.to_markdown(index=False)))

# %%
verdicts = claims.claims_section(study.output_dir, n_boot=study.profile.evaluation.bootstrap, seed=seed)
display(Markdown(verdicts))

# %%
path = report.write_report(study.output_dir, study.profile.name, report.TABLE_ORDER, study.profile.deviations,
                           preamble=report.preamble(study.output_dir, study.profile.name, seed), claims=verdicts)
print(f"wrote {path}")

# %%
print("Each claim above is judged only at this profile's scale; the deviations list says how this run differs "
      "from the paper, and the tables give every number beside the published one.")
