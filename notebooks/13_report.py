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
# # 13 · Report
# Gathers the tables of notebooks 00–11 into `REPORT.md`: the headline table of the paper's claims first, then
# one compact table per paper table beside the paper's numbers, the figures, and every deviation. Tables from
# different runs (commit, seed, overrides, encoders) are refused unless `allow_mixed` is true.

# %% tags=["parameters"]
profile: str = "smoke"  # smoke | cpu-study | paper | paper-eval
output_dir: str = ""  # default: results/<profile>
seed: int = 0  # pretraining seed; probe seeds are offset from it
encoders: str = ""  # weights files standing in for the rb / mb rows (README, Encoders from anywhere)
overrides: str = ""  # profile changes as JSON with dotted keys, e.g. {"pretrain.epochs": 10}
allow_mixed: bool = False  # write the report even if its tables come from different runs, naming each difference

# %%
from IPython.display import Markdown, display

from ecgjepa_core.study.registry import write_pretraining_runs, write_report
from ecgjepa_core.study.study import Study

study = Study(profile, output_dir or None, seed=seed, encoders=encoders, overrides=overrides)

# %%
# The runs the tables read, from their provenance records: rendering the report never pretrains.
runs = write_pretraining_runs(study)
display(Markdown(runs.to_markdown(index=False) if len(runs) else "No pretraining in this profile."))

# %%
path = write_report(study, allow_mixed=allow_mixed)
display(Markdown("## ".join(path.read_text().split("## ", 2)[:2])))  # its top: notices, headline, what ran

# %%
print("Each verdict above is judged only at this profile's scale; the deviations at the end of REPORT.md say how "
      "this run differs from the paper.")
