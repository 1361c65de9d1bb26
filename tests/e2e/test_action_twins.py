"""The GitHub Action (``action.yml``) run locally: its shell steps, in order, with bash.

There is no GitHub here: ``uses:`` steps (setup-python, upload-sarif) are skipped, the install
step is skipped too (this virtualenv already has the worktree installed: ``make install``), and
``${{ inputs.* }}`` / ``${{ steps.*.outputs.* }}`` in a step's env are filled in as the runner
would. Against the vulnerable twin the action leaves the SARIF file and the step summary, and
its last step exits 1.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from specdiff.demo.serve import RunningTwin
from tests.e2e.conftest import TwinScan

ROOT = Path(__file__).resolve().parents[2]
EXPRESSION = re.compile(r"\$\{\{\s*(inputs|steps)\.([\w-]+)(?:\.outputs\.([\w-]+))?\s*\}\}")


def _fill(text: str, inputs: dict[str, str], outputs: dict[str, dict[str, str]]) -> str:
    def value(m: re.Match[str]) -> str:
        kind, name, output = m.groups()
        return inputs[name] if kind == "inputs" else outputs.get(name, {}).get(output, "")

    return EXPRESSION.sub(value, text)


def _run_action(inputs: dict[str, str], workdir: Path, env: dict[str, str]) -> list[int]:
    action: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    defaults = {k: str(v.get("default", "")) for k, v in action["inputs"].items()}
    given = {**defaults, **inputs}
    outputs: dict[str, dict[str, str]] = {}
    codes: list[int] = []
    for step in action["runs"]["steps"]:
        if "uses" in step or step.get("name") == "Install specdiff":
            continue
        assert step["shell"] == "bash"
        output_file = workdir / f"output-{len(codes)}"
        output_file.write_text("")
        step_env = {
            **env,
            "GITHUB_OUTPUT": str(output_file),
            **{k: _fill(str(v), given, outputs) for k, v in step.get("env", {}).items()},
        }
        # GitHub's bash: bash --noprofile --norc -eo pipefail {0}
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=workdir,
            env=step_env,
            timeout=120,
        )
        codes.append(done.returncode)
        if "id" in step:
            pairs = (line.split("=", 1) for line in output_file.read_text().splitlines())
            outputs[step["id"]] = dict(pairs)
    return codes


def test_action_steps_fail_on_the_vulnerable_twin(
    vulnerable_twin: RunningTwin, vulnerable_scan: TwinScan, tmp_path: Path
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("## earlier step\n")
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_ACTION_PATH": str(ROOT),
        "SPECDIFF_TOKEN": vulnerable_twin.token,
    }
    codes = _run_action(
        {
            "spec": str(vulnerable_twin.spec_path),
            "base-url": vulnerable_twin.https_url,
            "args": f"--http-url {vulnerable_twin.http_url} --ca-bundle {vulnerable_twin.ca_pem}",
        },
        tmp_path,
        env,
    )
    assert codes == [0, 0, 1]  # check (records its code), summary, gate
    sarif = json.loads((tmp_path / "specdiff.sarif").read_text())
    rules = {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert rules == {f.rule for f in vulnerable_scan.report.findings}
    text = summary.read_text()
    assert text.startswith("## earlier step\n")  # appended, not overwritten
    assert text[len("## earlier step\n") :] == (tmp_path / "specdiff.md").read_text()
    assert vulnerable_twin.token not in text


def test_action_gate_passes_a_clean_run_through(hardened_twin: RunningTwin, tmp_path: Path) -> None:
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_ACTION_PATH": str(ROOT),
        "SPECDIFF_TOKEN": hardened_twin.token,
    }
    codes = _run_action(
        {
            "spec": str(hardened_twin.spec_path),
            "base-url": hardened_twin.https_url,
            "args": f"--http-url {hardened_twin.http_url} --ca-bundle {hardened_twin.ca_pem}",
        },
        tmp_path,
        env,
    )
    assert codes == [0, 0, 0]
    assert json.loads((tmp_path / "specdiff.sarif").read_text())["runs"][0]["results"] == []
