"""The example notebooks run, top to bottom, against a live commons."""

from pathlib import Path

import nbformat
from ipykernel.kernelspec import install as install_kernelspec
from nbclient import NotebookClient

EXAMPLES = Path(__file__).parents[1] / "examples"


def test_the_datasets_notebook_runs(live_server, make_member, token_for, tmp_path, monkeypatch):
    secret = token_for(make_member("amina"))["Authorization"].removeprefix("Bearer ")
    monkeypatch.setenv("AICOMMONS_SERVER", live_server)
    monkeypatch.setenv("AICOMMONS_TOKEN", secret)
    # a kernel of this interpreter, found through JUPYTER_PATH: no setup on the machine
    install_kernelspec(kernel_name="aicommons-test", prefix=str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter" / "share" / "jupyter"))
    notebook = nbformat.read(EXAMPLES / "datasets.ipynb", as_version=4)
    NotebookClient(
        notebook, kernel_name="aicommons-test", timeout=120, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output["output_type"] == "error"]
    found = [
        output
        for output in outputs
        if output.get("data", {}).get("text/plain", "").startswith("['air-quality-")
    ]
    assert len(found) == 1
