"""The configuration file: discovery, --config, precedence, credentials by reference, errors.

Every error is one line and exit 2. Runs the real CLI in-process (typer's CliRunner) in a
temporary working directory; nothing here sends a request except the precedence test, which
asks a closed loopback port (exit 3 names the base URL that won).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from specdiff.cli import app

RUNNER = CliRunner()
DEMO_SPEC = Path(__file__).resolve().parents[1] / "specdiff" / "demo" / "openapi.yaml"
CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens on it here


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("SPECDIFF_CONFIG", "SPECDIFF_BASE_URL", "SPECDIFF_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def _lint(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = RUNNER.invoke(app, [*args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_unknown_key_is_exit_2_naming_it(tmp_path: Path) -> None:
    (tmp_path / "specdiff.toml").write_text('fial-on = "low"\n')
    code, out, err = _lint("lint", str(DEMO_SPEC))
    assert (code, out) == (2, "")
    assert err == f"specdiff: error: {tmp_path / 'specdiff.toml'}: unknown key 'fial-on'\n"


def test_toml_syntax_error_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "specdiff.toml").write_text("fail-on = \n")
    code, _, err = _lint("lint", str(DEMO_SPEC))
    assert code == 2
    assert err == (
        f"specdiff: error: {tmp_path / 'specdiff.toml'}: not valid TOML "
        "(Invalid value (at line 1, column 11))\n"
    )


@pytest.mark.parametrize(
    "key",
    [
        "token",
        "token-b",
        "auth-b",
        "token_low",
        "header",
        "header-b",
        "header-low",
        "jwt-secret",
        "expired-token",
        "query",
    ],
)
def test_a_literal_credential_is_refused(tmp_path: Path, key: str) -> None:
    (tmp_path / "specdiff.toml").write_text(f'{key} = "s3cret-value"\n')
    code, _, err = _lint("lint", str(DEMO_SPEC))
    assert code == 2
    assert err == (
        f"specdiff: error: {tmp_path / 'specdiff.toml'}: {key!r} would put a credential in the "
        f'file; name the environment variable that holds it instead: {key}-env = "MY_VARIABLE"\n'
    )
    assert "s3cret-value" not in err


def test_credential_env_reference_must_be_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MY_API_TOKEN", raising=False)
    (tmp_path / "specdiff.toml").write_text('token-env = "MY_API_TOKEN"\n')
    code, _, err = _lint("lint", str(DEMO_SPEC))
    assert code == 2
    assert err == (
        f"specdiff: error: {tmp_path / 'specdiff.toml'}: token-env: the environment variable "
        "MY_API_TOKEN is not set\n"
    )


def test_credential_env_reference_set_but_empty_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "specdiff.toml").write_text('token-b-env = "MY_B_TOKEN"\n')
    code, _, err = _lint("check", str(DEMO_SPEC), "--base-url", CLOSED, env={"MY_B_TOKEN": " "})
    assert code == 2
    assert err == (
        f"specdiff: error: {tmp_path / 'specdiff.toml'}: token-b-env: the environment variable "
        "MY_B_TOKEN is set but empty (a CI secret this job cannot see?)\n"
    )


@pytest.mark.parametrize(
    ("variable", "command"),
    [
        ("SPECDIFF_TOKEN", "check"),
        ("SPECDIFF_TOKEN_B", "check"),
        ("SPECDIFF_TOKEN_LOW", "check"),
        ("SPECDIFF_JWT_SECRET", "check"),
        ("SPECDIFF_EXPIRED_TOKEN", "check"),
        ("SPECDIFF_HEADER", "check"),
        ("SPECDIFF_TOKEN", "lint"),
    ],
)
def test_a_credential_variable_set_but_empty_is_exit_2(variable: str, command: str) -> None:
    """A CI secret missing on a fork's pull request arrives empty: no anonymous pass."""
    args = [command, str(DEMO_SPEC)] + (["--base-url", CLOSED] if command == "check" else [])
    code, out, err = _lint(*args, env={variable: ""})
    assert (code, out) == (2, "")
    assert err == (
        f"specdiff: error: {variable} is set but empty (a CI secret this job cannot see?): give "
        "it a value, or unset it to check without that credential\n"
    )


def test_an_empty_credential_option_is_exit_2() -> None:
    code, _, err = _lint("check", str(DEMO_SPEC), "--base-url", CLOSED, "--token-b", "")
    assert code == 2
    assert (
        err == "specdiff: error: --token-b is empty: give the credential, or leave --token-b out\n"
    )


def test_an_empty_variable_is_no_error_when_the_option_gives_the_credential() -> None:
    code, _, err = _lint(
        "check", str(DEMO_SPEC), "--base-url", CLOSED, "--token", "t0k", env={"SPECDIFF_TOKEN": ""}
    )
    assert code == 3, err  # it went on to the (closed) target
    assert "127.0.0.1:9" in err


@pytest.mark.parametrize("command", ["check", "lint"])
@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("specdiff.toml", 'spec = "x.yaml\n', "not valid TOML"),
        ("specdiff.toml", "frobnicate = 1\n", "unknown key 'frobnicate'"),
        ("specdiff.toml", 'token = "abc"\n', "'token' would put a credential in the file"),
        ("specdiff.toml", 'token-env = "NOT_SET_ANYWHERE"\n', "NOT_SET_ANYWHERE is not set"),
        ("pyproject.toml", "[tool.specdiff\n", "not valid TOML"),
    ],
)
def test_a_broken_found_file_is_one_line_even_when_it_should_give_the_spec(
    tmp_path: Path, command: str, name: str, text: str, message: str
) -> None:
    """Without SPEC on the command line, the file was to give it: its own error must show, not
    "Missing argument 'SPEC'" (nor, for a broken pyproject.toml, a traceback)."""
    (tmp_path / name).write_text(text)
    code, out, err = _lint(command)
    assert (code, out) == (2, "")
    assert err.startswith(f"specdiff: error: {tmp_path / name}: ") and message in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    "args", [["rules"], ["explain", "SD201"], ["check", "--help"], ["--version"]]
)
def test_a_broken_pyproject_does_not_break_commands_it_cannot_configure(
    tmp_path: Path, args: list[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.specdiff\n")
    code, out, err = _lint(*args)
    assert code == 0, err
    assert out


def test_bad_suppress_entry_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "specdiff.toml").write_text('suppress = [{rule = "SD301"}]\n')
    code, _, err = _lint("lint", str(DEMO_SPEC))
    assert code == 2
    assert (
        err
        == f"specdiff: error: {tmp_path / 'specdiff.toml'}: suppress[0] (SD301) needs a reason\n"
    )


def test_pyproject_table_sets_spec_and_format(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "x"\n\n[tool.specdiff]\nspec = "{DEMO_SPEC}"\nformat = "json"\n'
    )
    code, out, err = _lint("lint")
    assert code == 0, err
    assert out.startswith("{") and f'"spec": "{DEMO_SPEC}"' in out


def test_pyproject_without_the_table_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.other]\nfoo = 1\n')
    code, out, _ = _lint("lint", str(DEMO_SPEC))
    assert code == 0
    assert not out.startswith("{")


def test_explicit_config_file_wins_over_discovery(tmp_path: Path) -> None:
    (tmp_path / "specdiff.toml").write_text("bogus = 1\n")
    other = tmp_path / "ci.toml"
    other.write_text('format = ["json"]\n')
    code, out, err = _lint("--config", str(other), "lint", str(DEMO_SPEC))
    assert code == 0, err
    assert out.startswith("{")


def test_config_after_the_command_name_replaces_a_broken_found_file(tmp_path: Path) -> None:
    (tmp_path / "specdiff.toml").write_text("bogus = 1\n")
    other = tmp_path / "ci.toml"
    other.write_text('format = ["json"]\n')
    code, out, err = _lint("lint", str(DEMO_SPEC), "--config", str(other))
    assert code == 0, err
    assert out.startswith("{")
    code, out, err = _lint("lint", str(DEMO_SPEC))  # without it, the found file still fails
    assert (code, out) == (2, "")
    assert err == f"specdiff: error: {tmp_path / 'specdiff.toml'}: unknown key 'bogus'\n"


def test_a_broken_found_file_does_not_stop_commands_it_cannot_configure(tmp_path: Path) -> None:
    (tmp_path / "specdiff.toml").write_text("bogus = 1\n")
    code, out, _ = _lint("rules")
    assert code == 0 and "SD201" in out


def test_config_after_the_command_name_reports_its_own_errors(tmp_path: Path) -> None:
    other = tmp_path / "ci.toml"
    other.write_text("fail-on = \n")
    code, _, err = _lint("check", str(DEMO_SPEC), "--config", str(other))
    assert code == 2
    assert err.startswith(f"specdiff: error: {other}: not valid TOML") and err.count("\n") == 1


def test_precedence_cli_then_env_then_file(tmp_path: Path) -> None:
    (tmp_path / "specdiff.toml").write_text(
        f'base-url = "{CLOSED}/file"\nspec = "{DEMO_SPEC}"\ntimeout = 2\n'
    )

    def unreachable(*args: str, env: dict[str, str] | None = None) -> str:
        code, _, err = _lint("check", *args, env=env)
        assert code == 3, err
        return err.split(" is unreachable")[0]

    assert unreachable() == f"specdiff: error: {CLOSED}/file"
    env = {"SPECDIFF_BASE_URL": f"{CLOSED}/env"}
    assert unreachable(env=env) == f"specdiff: error: {CLOSED}/env"
    assert unreachable("--base-url", f"{CLOSED}/cli", env=env) == f"specdiff: error: {CLOSED}/cli"
