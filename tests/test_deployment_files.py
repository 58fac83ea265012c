"""The shipped deployment files hold together: ``Dockerfile``, ``compose.yaml`` and the systemd
units in ``deploy/systemd/`` parse, run as a user who is not root, and every ``lims`` command
line in them is a real command with valid options; systemd accepts the units
(``systemd-analyze verify``, where it is installed). Containers cannot run here, so the image
build itself is documented (docs/deployment.md) rather than tested."""

from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from lims import create_app
from lims.cli import main
from lims.ops.cli import register as register_ops

ROOT = Path(__file__).resolve().parents[1]
UNITS = ROOT / "deploy" / "systemd"
ENV_EXAMPLE = ROOT / "deploy" / "lims.env.example"
VENV_LIMS = "/srv/lims/.venv/bin/lims"  # where the units expect the installed command


@pytest.fixture(scope="module")
def cli_app() -> Any:
    """The app as the ``lims`` command builds it: the factory's app plus the operations
    commands (``backup``, ``restore``, ``storage``, ``db copy``) that ``lims.cli`` adds."""
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    register_ops(app)
    return app


def parse_lims_command(app: Any, argv: list[str]) -> click.Context:
    """Resolve ``lims …`` the way the ``lims`` command does and parse its options (nothing
    runs): an unknown command or a bad option raises."""
    assert argv[0].endswith("lims"), argv
    name, *rest = argv[1:]
    command: click.Command = main.commands.get(name) or app.cli.commands[name]
    while isinstance(command, click.Group):
        name, *rest = rest
        command = command.commands[name]
    return command.make_context(name, list(rest))


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?message}``."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2) or "", match.group(3) or ""
        if env.get(name):
            return env[name]
        if op == ":?":
            raise AssertionError(f"{name} required: {arg}")
        return arg if op == ":-" else ""

    return re.sub(r"\$\{(\w+)(:[-?])?([^}]*)\}", one, text)


def example_env() -> dict[str, str]:
    """The variables deploy/lims.env.example sets or shows (commented out)."""
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"#?(\w+)=(.*)$", line.strip())
        if match:
            values[match.group(1)] = match.group(2)
    return values


# --------------------------------------------------------------------------- compose


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    text = (ROOT / "compose.yaml").read_text()
    required = set(re.findall(r"\$\{(\w+):\?", text))
    assert required <= set(example_env()), "a required variable missing from lims.env.example"
    return yaml.safe_load(interpolate(text, example_env()))


def test_compose_runs_postgresql_the_migrations_the_app_and_a_listener(compose, cli_app):
    services = compose["services"]
    assert set(services) == {"db", "migrate", "app", "listener"}
    db = services["db"]
    assert db["image"].startswith("postgres:15")  # = the image's pg_dump (Debian bookworm)
    assert "pg_isready" in db["healthcheck"]["test"]
    assert any(v.endswith(":/var/lib/postgresql/data") for v in db["volumes"])
    for name in ("migrate", "app", "listener"):
        service = services[name]
        assert service["build"] == "." and service["image"] == services["app"]["image"]
        env = service["environment"]
        assert env["LIMS_DATABASE_URL"].startswith("postgresql+psycopg://lims:")
        assert env["LIMS_DATABASE_URL"].endswith("@db:5432/lims")
        assert env["LIMS_SECRET_KEY"] and env["LIMS_LOG_FORMAT"] == "json"
        assert f"files:{env['LIMS_STORAGE_DIR']}" in service["volumes"]
        assert service["depends_on"]["db"]["condition"] == "service_healthy"
        parse_lims_command(cli_app, service["command"])
    assert services["migrate"]["command"] == ["lims", "db", "upgrade"]
    app = services["app"]
    assert app["command"][:2] == ["lims", "serve"]
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert all(port.startswith("127.0.0.1:") for port in app["ports"])  # nginx in front
    listener = services["listener"]
    assert listener["profiles"] == ["analyser"]
    ctx = parse_lims_command(cli_app, listener["command"])
    assert ctx.params["url"].startswith(("rfc2217://", "socket://", "/dev/"))
    assert set(compose["volumes"]) == {"pgdata", "files", "backups"}


# --------------------------------------------------------------------------- Dockerfile


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def test_dockerfile_builds_a_slim_non_root_image_serving_lims_with_a_healthcheck(cli_app, compose):
    steps = dockerfile_instructions()
    froms = [rest for kw, rest in steps if kw == "FROM"]
    assert len(froms) == 2 and all("-slim-bookworm" in f for f in froms)
    final = steps[max(i for i, (kw, _) in enumerate(steps) if kw == "FROM") :]
    users = [rest for kw, rest in final if kw == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    [health] = [rest for kw, rest in final if kw == "HEALTHCHECK"]
    assert "/healthz" in health
    assert any(r.rule == "/healthz" for r in cli_app.url_map.iter_rules())
    [cmd] = [rest for kw, rest in final if kw == "CMD"]
    ctx = parse_lims_command(cli_app, __import__("json").loads(cmd))
    assert ctx.info_name == "serve" and ctx.params["bind"] == ("0.0.0.0:8000",)
    assert ("EXPOSE", "8000") in final
    env = " ".join(rest for kw, rest in final if kw == "ENV")
    storage = compose["services"]["app"]["environment"]["LIMS_STORAGE_DIR"]
    assert f"LIMS_STORAGE_DIR={storage}" in env and "LIMS_ENV=production" in env
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for kw, rest in steps:
        if kw == "COPY" and not rest.startswith("--from"):
            for source in rest.split()[:-1]:
                assert (ROOT / source).exists(), source
                assert source not in ignored, f"{source} is copied but .dockerignore drops it"
    assert {".env", "instance", ".venv", ".git"} <= ignored  # no secrets, no local data


# --------------------------------------------------------------------------- systemd


def read_unit(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text())
    return parser


UNIT_FILES = ["lims.service", "lims-listen@.service", "lims-backup.service", "lims-backup.timer"]


def test_the_units_run_lims_commands_as_the_lims_user(cli_app):
    assert sorted(p.name for p in UNITS.iterdir()) == sorted(UNIT_FILES)
    listen_example = "--port rfc2217://bench-pc.lan:4001 --instrument 4"
    for name in UNIT_FILES:
        unit = read_unit(UNITS / name)
        assert unit.get("Unit", "Description")
        if name.endswith(".timer"):
            assert unit.get("Timer", "OnCalendar") and unit.get("Timer", "Persistent") == "true"
            assert unit.get("Install", "WantedBy") == "timers.target"
            continue
        service = dict(unit.items("Service"))
        assert service["User"] == "lims" and service["NoNewPrivileges"] == "true"
        assert service["EnvironmentFile"].startswith("/etc/lims/")
        command = service["ExecStart"].replace("$LIMS_LISTEN_ARGS", listen_example)
        argv = shlex.split(command)
        assert argv[0] == VENV_LIMS
        parse_lims_command(cli_app, argv)
    assert "dialout" in read_unit(UNITS / "lims-listen@.service").get(
        "Service", "SupplementaryGroups"
    )
    assert read_unit(UNITS / "lims-backup.service").get("Service", "Type") == "oneshot"
    parse_lims_command(
        cli_app, shlex.split(read_unit(UNITS / "lims.service").get("Service", "ExecStartPre"))
    )


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_accepts_the_units(tmp_path):
    """``systemd-analyze verify`` on copies whose ``lims`` is this environment's."""
    installed = str(Path(sys.executable).with_name("lims"))
    for name in UNIT_FILES:
        (tmp_path / name).write_text((UNITS / name).read_text().replace(VENV_LIMS, installed))
    (tmp_path / "lims-listen@cobas.service").write_text(
        (tmp_path / "lims-listen@.service").read_text()
    )
    names = [n for n in UNIT_FILES if n != "lims-listen@.service"] + ["lims-listen@cobas.service"]
    proc = subprocess.run(
        ["systemd-analyze", "verify", *names],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"},
    )
    ours = [line for line in proc.stderr.splitlines() if any(n in line for n in names)]
    assert proc.returncode == 0 and not ours, proc.stderr
    calendar = read_unit(UNITS / "lims-backup.timer").get("Timer", "OnCalendar")
    check = subprocess.run(
        ["systemd-analyze", "calendar", calendar], capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0 and "Next elapse" in check.stdout, check.stderr
