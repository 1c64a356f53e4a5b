"""Run the real Airflow 3 services on this machine, every listener on 127.0.0.1.

``ltrr run`` uses ``dag.test()``, which needs no service; a person who wants the UI (to look
at runs, or to make a backfill) needs the real ones. ``airflow standalone`` is not used because
it binds its log servers to 0.0.0.0. Instead three processes are started separately, each in
its own process group, with the environment of ``local_run.airflow_env`` (same Airflow home,
sqlite metadata DB, ``dags/`` folder and ``spark_default`` connection as ``ltrr run``):

- ``airflow api-server -H 127.0.0.1 -p PORT``: UI, REST API v2 and the execution API;
- ``airflow scheduler --skip-serve-logs``: schedules and runs tasks (LocalExecutor);
- ``airflow dag-processor``: parses ``dags/`` into the metadata DB.

Login is the simple auth manager's: one ``admin`` user whose password Airflow generates on the
api-server's first start and keeps in a passwords file under the Airflow home.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import psutil

from ltrr.config import Settings
from ltrr.orchestration.local_run import airflow_env

HOST = "127.0.0.1"
USERNAME = "admin"
PASSWORDS_FILE_NAME = "simple_auth_manager_passwords.json.generated"
SERVICE_NAMES = ("api-server", "scheduler", "dag-processor")
# LocalExecutor forks `parallelism` worker processes as soon as the scheduler starts (default
# 32). On a laptop-sized machine a few are enough: each task is a spark-submit driver, and the
# sqlite metadata DB takes one writer at a time.
PARALLELISM = 2


class ServicesError(RuntimeError):
    """The Airflow services could not be started (the message holds the end of their logs)."""


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now (the kernel picks it).

    Returns:
        The port number.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:``port``.

    Args:
        port: the port to try.

    Returns:
        True when a connection succeeds.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((HOST, port)) == 0


def services_env(settings: Settings, port: int, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of the three services: ``airflow_env`` plus what services need.

    Args:
        settings: run settings (Airflow home, data root, Spark master, ...).
        port: the api-server's port on 127.0.0.1.
        base: the environment to start from (default: this process's).

    Returns:
        A complete environment for the service processes.
    """
    env = airflow_env(settings, None if base is None else dict(base))
    home = settings.airflow_home
    url = f"http://{HOST}:{port}"
    env.update(
        {
            # The only executor airflow-core 3.3 ships. It works on sqlite (no extra setting):
            # tasks report through the execution API, so only the three services write to the
            # DB. Checked by running tasks of ltrr_nightly through it (docs/deployment.md).
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(PARALLELISM),
            "AIRFLOW__API__HOST": HOST,
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": url,
            # Where task processes (children of the scheduler) report their state.
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USERNAME}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / PASSWORDS_FILE_NAME),
            # Listeners that would bind 0.0.0.0 stay off: the scheduler's health server (and
            # its log server, via --skip-serve-logs).
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            # One DAG file: one parsing process is enough.
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        }
    )
    return env


def migrate_db(env: Mapping[str, str], log_path: Path) -> None:
    """Create or upgrade the metadata DB with ``airflow db migrate`` (idempotent).

    Args:
        env: the services' environment (``AIRFLOW_HOME``, DB URL, ...).
        log_path: file that receives the command's output.

    Raises:
        ServicesError: when the command fails (with the end of its output).
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log:
        proc = subprocess.run(
            [_airflow_bin(), "db", "migrate"], env=dict(env), stdout=log, stderr=subprocess.STDOUT, check=False
        )
    if proc.returncode != 0:
        raise ServicesError(f"`airflow db migrate` failed (exit {proc.returncode}):\n{_tail(log_path)}")


def http_json(
    method: str, url: str, body: Any = None, token: str | None = None, timeout: float = 30.0
) -> tuple[int, Any]:
    """One HTTP request with a JSON body and answer (standard library only).

    Args:
        method: ``GET``, ``POST``, ...
        url: the full URL.
        body: JSON-serialisable request body, or None for none.
        token: a JWT for the ``Authorization: Bearer`` header, or None.
        timeout: seconds before giving up on the connection.

    Returns:
        The status code and the decoded JSON answer (the raw text if it is not JSON). HTTP error
        statuses are returned, not raised.
    """
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    text = raw.decode(errors="replace")
    try:
        return status, json.loads(text) if text else None
    except json.JSONDecodeError:
        return status, text


class AirflowServices:
    """The api-server, scheduler and dag-processor of one Airflow home, started and stopped together.

    Use as a context manager (``with AirflowServices(settings) as services: ...``) or call
    ``start()`` and ``stop()``; ``stop()`` is idempotent and also ends the task processes
    the scheduler started.
    """

    def __init__(self, settings: Settings, port: int | None = None, *, startup_timeout: float = 180.0) -> None:
        """Prepare (not start) the services.

        Args:
            settings: run settings; the Airflow home is ``settings.airflow_home``.
            port: the api-server's port on 127.0.0.1 (default: a free one).
            startup_timeout: seconds ``start()`` waits for every service to report healthy.
        """
        self.settings = settings
        self.port = free_port() if port is None else port
        self.startup_timeout = startup_timeout
        self.home = settings.airflow_home
        self.log_dir = self.home / "logs" / "services"
        self.passwords_file = self.home / PASSWORDS_FILE_NAME
        self.env = services_env(settings, self.port)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.startup_seconds: float | None = None

    @property
    def url(self) -> str:
        """The base URL of the UI and the REST API."""
        return f"http://{HOST}:{self.port}"

    @property
    def username(self) -> str:
        """The admin user of the simple auth manager."""
        return USERNAME

    @property
    def password(self) -> str:
        """The admin password Airflow generated (read from the passwords file)."""
        try:
            passwords = json.loads(self.passwords_file.read_text())
        except FileNotFoundError:
            raise ServicesError(f"no passwords file {self.passwords_file}: has the api-server started?") from None
        return str(passwords[USERNAME])

    @property
    def pids(self) -> dict[str, int]:
        """The PID of each started service (each is also its process group id)."""
        return {name: proc.pid for name, proc in self.processes.items()}

    def log_path(self, name: str) -> Path:
        """The file that receives a service's stdout and stderr.

        Args:
            name: ``api-server``, ``scheduler``, ``dag-processor`` or ``db-migrate``.

        Returns:
            ``<airflow_home>/logs/services/<name>.log``.
        """
        return self.log_dir / f"{name}.log"

    def start(self) -> AirflowServices:
        """Migrate the DB, start the three services and wait until all of them are healthy.

        Returns:
            self.

        Raises:
            ServicesError: the port is taken, a service exited, or the timeout passed (the
                message holds the end of the logs); every started process is stopped first.
        """
        if self.processes:
            raise ServicesError("services already started")
        if port_in_use(self.port):
            raise ServicesError(f"port {self.port} on {HOST} is already in use; choose another port")
        began = time.monotonic()
        self.home.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        migrate_db(self.env, self.log_path("db-migrate"))
        started_at = dt.datetime.now(dt.UTC)
        commands = {
            "api-server": ["api-server", "-H", HOST, "-p", str(self.port)],
            "scheduler": ["scheduler", "--skip-serve-logs"],
            "dag-processor": ["dag-processor"],
        }
        try:
            for name in SERVICE_NAMES:
                with open(self.log_path(name), "ab") as log:
                    self.processes[name] = subprocess.Popen(
                        [_airflow_bin(), *commands[name]],
                        env=self.env,
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,  # own process group: stop() signals the whole group
                    )
            self._wait_healthy(started_at)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    def _wait_healthy(self, started_at: dt.datetime) -> None:
        """Poll the health endpoint until the DB, scheduler and dag-processor are healthy.

        A heartbeat only counts when it is newer than ``started_at``, so a recent heartbeat left
        in the DB by an earlier run is not mistaken for these services.
        """
        deadline = time.monotonic() + self.startup_timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            if exited := self.exited():
                raise ServicesError(f"Airflow services exited (name: exit code): {exited}\n{self.logs_tail()}")
            try:
                status, health = http_json("GET", f"{self.url}/api/v2/monitor/health", timeout=5)
            except OSError as exc:  # not listening yet
                last = str(exc)
            else:
                last = f"{status} {health}"
                if status == 200 and isinstance(health, dict) and _all_healthy(health, started_at):
                    return
            time.sleep(1.0)
        raise ServicesError(
            f"Airflow services not healthy after {self.startup_timeout:.0f} s (last health answer: {last})\n"
            f"{self.logs_tail()}"
        )

    def stop(self, timeout: float = 30.0) -> None:
        """Stop every process started here: SIGTERM each group, wait, then SIGKILL what is left.

        Task processes of the scheduler run in process groups of their own, so every descendant
        seen before the SIGTERM is also signalled. Calling it again does nothing.

        Args:
            timeout: seconds to wait after SIGTERM before killing.
        """
        if not self.processes:
            return
        stop_process_groups(list(self.processes.values()), timeout)
        self.processes.clear()

    def token(self) -> str:
        """A JWT for the REST API: ``POST /auth/token`` with the admin's credentials.

        Returns:
            The access token (send it as ``Authorization: Bearer <token>``).

        Raises:
            ServicesError: when the login is refused.
        """
        status, answer = http_json(
            "POST", f"{self.url}/auth/token", {"username": self.username, "password": self.password}
        )
        if status not in (200, 201) or not isinstance(answer, dict) or "access_token" not in answer:
            raise ServicesError(f"login refused: {status} {answer}")
        return str(answer["access_token"])

    def api(self, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        """One request to the api-server.

        Args:
            method: ``GET``, ``POST``, ...
            path: the path, e.g. ``/api/v2/dags/ltrr_nightly``.
            body: JSON body or None.
            token: a JWT from ``token()``, or None for an unauthenticated request.

        Returns:
            The status code and the decoded JSON answer.
        """
        return http_json(method, f"{self.url}{path}", body, token)

    def wait_for_dag(self, dag_id: str, token: str, timeout: float = 120.0) -> dict[str, Any]:
        """Poll ``GET /api/v2/dags/<dag_id>`` until the dag-processor has parsed the DAG.

        Args:
            dag_id: the DAG to wait for.
            token: a JWT from ``token()``.
            timeout: seconds to wait.

        Returns:
            The DAG as the REST API describes it (``is_paused``, ``has_import_errors``, ...).

        Raises:
            ServicesError: the DAG did not appear in time (with the import errors Airflow
                recorded, if any) or a service exited.
        """
        deadline = time.monotonic() + timeout
        while True:
            status, answer = self.api("GET", f"/api/v2/dags/{dag_id}", token=token)
            if status == 200 and isinstance(answer, dict):
                return answer
            if self.exited():
                raise ServicesError(f"Airflow services exited: {self.exited()}\n{self.logs_tail()}")
            if time.monotonic() >= deadline:
                _, errors = self.api("GET", "/api/v2/importErrors", token=token)
                raise ServicesError(
                    f"DAG {dag_id} not parsed after {timeout:.0f} s (last answer {status} {answer}); "
                    f"import errors: {errors}\n{self.logs_tail()}"
                )
            time.sleep(1.0)

    def exited(self) -> dict[str, int]:
        """The services that have exited since ``start()``.

        Returns:
            Service name to exit code (empty while all of them run).
        """
        return {name: code for name, proc in self.processes.items() if (code := proc.poll()) is not None}

    def logs_tail(self, lines: int = 30) -> str:
        """The last lines of every service's log, for error messages.

        Args:
            lines: lines per log.

        Returns:
            One block per log file that exists.
        """
        return logs_tail([self.log_path(name) for name in ("db-migrate", *SERVICE_NAMES)], lines)

    def __enter__(self) -> AirflowServices:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _airflow_bin() -> str:
    """The venv's ``airflow`` script (next to this interpreter), else the one on PATH."""
    candidate = Path(sys.executable).parent / "airflow"
    return str(candidate) if candidate.is_file() else "airflow"


def _all_healthy(health: dict[str, Any], started_at: dt.datetime) -> bool:
    """Whether the DB, the scheduler and the dag-processor are healthy, with fresh heartbeats."""
    if (health.get("metadatabase") or {}).get("status") != "healthy":
        return False
    components = (("scheduler", "latest_scheduler_heartbeat"), ("dag_processor", "latest_dag_processor_heartbeat"))
    for key, beat_key in components:
        component = health.get(key) or {}
        beat = component.get(beat_key)
        if component.get("status") != "healthy" or not beat:
            return False
        if dt.datetime.fromisoformat(beat) < started_at:
            return False
    return True


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _signal_process(proc: psutil.Process, sig: signal.Signals) -> None:
    with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
        proc.send_signal(sig)


def stop_process_groups(procs: list[subprocess.Popen], timeout: float) -> None:
    """SIGTERM each process's group (in the given order) and every descendant outside those groups,
    wait up to ``timeout`` seconds, then SIGKILL what is left and reap it.

    Descendants are listed before any signal, because children that put themselves in process
    groups of their own (Airflow's task processes, Spark's Python workers) would escape a
    group signal.

    Args:
        procs: processes started with ``start_new_session=True`` (each leads its group).
        timeout: seconds to wait after SIGTERM before killing.
    """
    groups = {proc.pid for proc in procs}
    family: list[psutil.Process] = []
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            family.extend(psutil.Process(proc.pid).children(recursive=True))
    for proc in procs:
        _signal_group(proc.pid, signal.SIGTERM)
    for child in family:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied, ProcessLookupError):
            if os.getpgid(child.pid) not in groups:  # outside the groups signalled above
                child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    _, alive = psutil.wait_procs(family, timeout=max(0.1, deadline - time.monotonic()))
    for proc in procs:
        _signal_group(proc.pid, signal.SIGKILL)  # stragglers in the group (no-op when it is gone)
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    for child in alive:
        _signal_process(child, signal.SIGKILL)
    psutil.wait_procs(alive, timeout=5)


def logs_tail(paths: list[Path], lines: int = 30) -> str:
    """The last ``lines`` lines of each existing log file, one headed block per file (for error messages)."""
    return "\n".join(f"--- {path} (last {lines} lines) ---\n{_tail(path, lines)}" for path in paths if path.is_file())


def _tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of a text file."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
