"""What the runner prints: notebook n of N with an estimate from the last run, and at the end the report,
the time taken and, for smoke, what its numbers mean."""

from __future__ import annotations

import json
import os
import time

from ecgjepa_core import run_messages as messages
from ecgjepa_core.study.profiles import get_profile


def test_duration():
    from ecgjepa_core.report.markdown import duration

    assert [duration(s) for s in (4.4, 65, 3599, 3725)] == ["4 s", "1 min 05 s", "59 min 59 s", "1 h 02 min"]


def test_estimates_come_from_the_last_manifest_of_the_folder(tmp_path):
    assert messages.previous_seconds(tmp_path) == {}
    assert "no estimate" in messages.starting(1, 14, "00_data.ipynb", {})
    (tmp_path / "manifest.json").write_text(json.dumps({"notebooks": [
        {"notebook": "00_data.ipynb", "status": "ok", "seconds": 12.0},
        {"notebook": "01_pretrain.ipynb", "status": "failed", "seconds": 0.0}]}))
    previous = messages.previous_seconds(tmp_path)
    assert previous == {"00_data.ipynb": 12.0}
    assert messages.starting(1, 14, "00_data.ipynb", previous) == \
        "[run_all] [1/14] 00_data: about 12 s (its last run here)"
    assert "no estimate" in messages.starting(2, 14, "01_pretrain.ipynb", previous)
    assert "took 12 s" in messages.overview(1, "smoke", tmp_path, previous, ["00_data.ipynb"])
    assert "took" not in messages.overview(2, "smoke", tmp_path, previous, ["00_data.ipynb", "01_pretrain.ipynb"])


def test_closing_names_the_report_and_what_smoke_numbers_mean(tmp_path):
    started = time.time()
    notice = get_profile("smoke").notice
    lines = messages.closing(tmp_path, started, 14, notice)
    assert "14 notebooks done in" in lines[0] and "REPORT.md" not in "\n".join(lines[:-1])
    (tmp_path / "REPORT.md").write_text("# report\n")
    lines = messages.closing(tmp_path, started, 14, notice)
    assert any(line.startswith("[run_all] Report: ") and "REPORT.md" in line for line in lines)
    assert "pipeline check" in lines[-1] and "results/cpu-study/REPORT.md" in lines[-1]
    os.utime(tmp_path / "REPORT.md", (started - 60, started - 60))  # an older report: said so
    assert any("was not rewritten" in line for line in messages.closing(tmp_path, started, 1, ""))
    assert get_profile("cpu-study").notice == ""
