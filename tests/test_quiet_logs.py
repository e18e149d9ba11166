"""A run prints nothing that is not the user's business: no kernel transport warning, no tqdm widget warning."""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from ecgjepa_core.paths import REPO_ROOT
from ecgjepa_core.run import execute


def test_executed_notebook_and_terminal_are_free_of_kernel_and_tqdm_warnings(tmp_path, capfd):
    source = tmp_path / "nb" / "01_bar.ipynb"
    source.parent.mkdir()
    cells = ["# Parameters\nsteps = 1",
             "import ecgjepa_core.data.download  # a module with progress bars\n"
             "from tqdm import tqdm\nfor _ in tqdm(range(steps * 50), desc='steps'):\n    pass\nprint('done')"]
    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, source)

    execute(source, tmp_path / "out", {"steps": 2})

    terminal = capfd.readouterr().err
    assert "without encryption" not in terminal
    outputs = [o for c in nbformat.read(tmp_path / "out" / source.name, as_version=4).cells
               for o in c.get("outputs", [])]
    text = "".join(o.get("text", "") for o in outputs)
    assert "TqdmWarning" not in text and "IProgress" not in text
    assert "done\n" in text
    bar = [o["text"] for o in outputs if o.get("name") == "stderr"]
    assert len(bar) == 1 and bar[0].count("\n") == 1 and "100/100" in bar[0], "one final bar line per cell"


def test_package_uses_text_progress_bars():
    """tqdm.auto picks ipywidgets bars inside a kernel and warns where ipywidgets is absent."""
    users = [p.relative_to(REPO_ROOT).as_posix() for root in ("ecgjepa_core", "notebooks")
             for p in sorted((REPO_ROOT / root).rglob("*.py")) if "tqdm.auto" in p.read_text()]
    assert users == []


def test_a_finished_notebook_is_shut_down_without_an_interrupt(tmp_path, monkeypatch):
    """jupyter_client interrupts a kernel before shutting it down; landing in the tail of the last cell's handler,
    the SIGINT made ipykernel log 'KeyboardInterrupt caught in kernel.' on a successful run. No SIGINT is sent
    to a kernel that finished its notebook."""
    import signal

    from jupyter_client import AsyncKernelManager

    sent = []
    original = AsyncKernelManager._async_signal_kernel

    async def record(self, signum):
        sent.append(signum)
        await original(self, signum)

    monkeypatch.setattr(AsyncKernelManager, "_async_signal_kernel", record)
    source = tmp_path / "00_quiet.ipynb"
    nb = new_notebook(cells=[new_code_cell("x = 1", metadata={"tags": ["parameters"]}), new_code_cell("print(x)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, source)
    execute(source, tmp_path / "out", {"x": 2})
    assert signal.SIGINT not in sent
