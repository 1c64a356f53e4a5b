"""A Spark standalone cluster (one master, one worker) on 127.0.0.1, from the installed pyspark.

Used by the integration test that submits ltrr's Spark jobs to a real cluster
(``tests/dags/test_spark_cluster.py``) and by a person who wants to try ``--master spark://``
on one machine (docs/deployment.md, "Spark standalone cluster").

The pip package of pyspark carries the jars and ``bin/spark-class`` but not
``sbin/start-master.sh``/``start-worker.sh``, so the two daemons are started with
``spark-class`` directly, each in a process group of its own:

- ``spark-class org.apache.spark.deploy.master.Master --host 127.0.0.1 --port P --webui-port W``
- ``spark-class org.apache.spark.deploy.worker.Worker spark://127.0.0.1:P --host 127.0.0.1
  --cores N --memory M --webui-port W2 --work-dir DIR``

Every listener stays on 127.0.0.1: ``--host`` binds the RPC endpoints, and
``SPARK_LOCAL_IP=127.0.0.1`` binds the web UIs and the executors the worker launches (they
inherit the worker's environment). The master's REST submission server stays off.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from ltrr.orchestration.services import HOST, free_port, http_json, logs_tail, port_in_use, stop_process_groups

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
DAEMON_NAMES = ("master", "worker")


class ClusterError(RuntimeError):
    """The cluster could not be started (the message holds the end of the daemons' logs)."""


def spark_home() -> Path:
    """The installed pyspark folder, which is a complete ``SPARK_HOME`` (jars, ``bin/spark-class``).

    Returns:
        The folder.

    Raises:
        ClusterError: when ``bin/spark-class`` is missing there.
    """
    spec = importlib.util.find_spec("pyspark")  # its location only: no import
    if spec is None or spec.origin is None:
        raise ClusterError("pyspark is not installed")
    home = Path(spec.origin).resolve().parent
    if not (home / "bin" / "spark-class").is_file():
        raise ClusterError(f"no bin/spark-class under {home}: is the full pyspark package installed?")
    return home


class StandaloneCluster:
    """A Spark standalone master and one worker on 127.0.0.1, started and stopped together.

    Use as a context manager (``with StandaloneCluster(log_dir) as cluster: ...``, then submit
    to ``cluster.master_url``) or call ``start()`` and ``stop()``. ``stop()`` is idempotent and
    ends every process started here, executors and their Python workers included, also when
    ``start()`` failed half-way.
    """

    def __init__(
        self,
        log_dir: Path,
        *,
        cores: int = 1,
        memory: str = "1g",
        work_dir: Path | None = None,
        startup_timeout: float = 120.0,
        daemon_java_options: str = "",
        daemon_memory: str = "512m",
        env: Mapping[str, str] | None = None,
    ) -> None:
        """Prepare (not start) the cluster; ports are picked now, free on 127.0.0.1.

        Args:
            log_dir: folder for ``master.log`` and ``worker.log`` (created on start).
            cores: cores the worker offers to applications.
            memory: memory the worker offers to executors (Spark size string, e.g. ``1g``).
            work_dir: the worker's work folder (executor logs, fetched files and py-files);
                default ``<log_dir>/work``.
            startup_timeout: seconds ``start()`` waits for the worker to be registered and alive.
            daemon_java_options: extra JVM options of the master and worker JVMs
                (``SPARK_DAEMON_JAVA_OPTS``), e.g. ``tests.jvm.FAST_JVM_OPTIONS``.
            daemon_memory: heap of each daemon JVM (``SPARK_DAEMON_MEMORY``; Spark's default is 1g).
            env: the environment to start from (default: this process's).
        """
        self.log_dir = Path(log_dir)
        self.work_dir = Path(work_dir) if work_dir is not None else self.log_dir / "work"
        self.cores = cores
        self.memory = memory
        self.startup_timeout = startup_timeout
        self.daemon_java_options = daemon_java_options
        self.daemon_memory = daemon_memory
        self.base_env = dict(os.environ if env is None else env)
        self.port = free_port()
        self.webui_port = free_port()
        self.worker_webui_port = free_port()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.startup_seconds: float | None = None

    @property
    def master_url(self) -> str:
        """The URL to submit to: ``spark://127.0.0.1:<port>``."""
        return f"spark://{HOST}:{self.port}"

    @property
    def webui_url(self) -> str:
        """The master's web UI (its JSON status is at ``<webui_url>/json/``)."""
        return f"http://{HOST}:{self.webui_port}"

    @property
    def ports(self) -> tuple[int, int, int]:
        """The ports chosen here: master RPC, master web UI, worker web UI."""
        return (self.port, self.webui_port, self.worker_webui_port)

    @property
    def pids(self) -> dict[str, int]:
        """The PID of each started daemon (each is also its process group id)."""
        return {name: proc.pid for name, proc in self.processes.items()}

    def log_path(self, name: str) -> Path:
        """The file that receives a daemon's stdout and stderr.

        Args:
            name: ``master`` or ``worker``.

        Returns:
            ``<log_dir>/<name>.log``.
        """
        return self.log_dir / f"{name}.log"

    def daemon_env(self) -> dict[str, str]:
        """The environment of both daemons (and, through the worker, of the executors).

        Returns:
            A complete environment: the base one plus ``SPARK_HOME``, ``SPARK_LOCAL_IP`` and
            the daemon settings.
        """
        env = dict(self.base_env)
        # A gateway port inherited from a PySpark session would confuse nothing here, but the
        # daemons are not PySpark processes: keep them clean.
        env.pop("PYSPARK_GATEWAY_PORT", None)
        env.pop("PYSPARK_GATEWAY_SECRET", None)
        master_opts = env.get("SPARK_MASTER_OPTS", "")
        env.update(
            {
                "SPARK_HOME": str(spark_home()),
                "SPARK_LOCAL_IP": HOST,
                "SPARK_DAEMON_MEMORY": self.daemon_memory,
                "SPARK_DAEMON_JAVA_OPTS": self.daemon_java_options,
                # Shuffle and spill files of executors stay in the work folder, not /tmp.
                "SPARK_LOCAL_DIRS": str(self.work_dir / "local"),
                "SPARK_MASTER_OPTS": f"{master_opts} -Dspark.master.rest.enabled=false".strip(),
            }
        )
        return env

    def start(self) -> StandaloneCluster:
        """Start the master, wait for its web UI, start the worker, wait until it is registered.

        Returns:
            self.

        Raises:
            ClusterError: a port is taken, a daemon exited, or the timeout passed (the message
                holds the end of the logs); every started process is stopped first.
        """
        if self.processes:
            raise ClusterError("cluster already started")
        for port in self.ports:
            if port_in_use(port):
                raise ClusterError(f"port {port} on {HOST} is already in use")
        began = time.monotonic()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        (self.work_dir / "local").mkdir(exist_ok=True)
        env = self.daemon_env()
        spark_class = str(Path(env["SPARK_HOME"]) / "bin" / "spark-class")
        commands = {
            "master": [
                spark_class,
                MASTER_CLASS,
                "--host",
                HOST,
                "--port",
                str(self.port),
                "--webui-port",
                str(self.webui_port),
            ],
            "worker": [
                spark_class,
                WORKER_CLASS,
                self.master_url,
                "--host",
                HOST,
                "--cores",
                str(self.cores),
                "--memory",
                self.memory,
                "--webui-port",
                str(self.worker_webui_port),
                "--work-dir",
                str(self.work_dir),
            ],
        }
        deadline = began + self.startup_timeout
        try:
            self._spawn("master", commands["master"], env)
            # The worker retries a failed registration only after several seconds: start it
            # once the master answers, so the first attempt succeeds.
            self._wait(lambda status: status.get("status") == "ALIVE", deadline, "master")
            self._spawn("worker", commands["worker"], env)
            self._wait(lambda status: _alive_workers(status) >= 1, deadline, "ALIVE worker")
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        with open(self.log_path(name), "ab") as log:
            self.processes[name] = subprocess.Popen(
                command,
                env=env,
                cwd=self.work_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: stop() signals the whole group
            )

    def _wait(self, ready: Callable[[dict[str, Any]], bool], deadline: float, what: str) -> None:
        """Poll the master's JSON status until ``ready(status)`` holds."""
        last = "no answer yet"
        while time.monotonic() < deadline:
            if exited := self.exited():
                raise ClusterError(f"Spark daemons exited (name: exit code): {exited}\n{self.logs_tail()}")
            try:
                status, answer = self.status()
            except OSError as exc:  # not listening yet
                last = str(exc)
            else:
                last = f"{status} {answer}"
                if status == 200 and isinstance(answer, dict) and ready(answer):
                    return
            time.sleep(0.5)
        raise ClusterError(
            f"Spark cluster: {what} not ready after {self.startup_timeout:g} s (last status: {last})\n"
            + self.logs_tail()
        )

    def status(self) -> tuple[int, Any]:
        """The master's status as JSON (``GET <webui_url>/json/``): workers, cores, applications.

        Returns:
            The HTTP status code and the decoded answer.

        Raises:
            OSError: when the master's web UI does not answer.
        """
        return http_json("GET", f"{self.webui_url}/json/", timeout=5)

    def exited(self) -> dict[str, int]:
        """The daemons that have exited since ``start()``.

        Returns:
            Daemon name to exit code (empty while both run).
        """
        return {name: code for name, proc in self.processes.items() if (code := proc.poll()) is not None}

    def logs_tail(self, lines: int = 30) -> str:
        """The last lines of each daemon's log, for error messages.

        Args:
            lines: lines per log.

        Returns:
            One block per log file that exists.
        """
        return logs_tail([self.log_path(name) for name in DAEMON_NAMES], lines)

    def stop(self, timeout: float = 20.0) -> None:
        """Stop every process started here: SIGTERM each group, wait, then SIGKILL what is left.

        Executors run in the worker's process group, but PySpark's Python daemons put
        themselves in groups of their own, so every descendant seen before the SIGTERM is
        also signalled. Calling it again does nothing.

        Args:
            timeout: seconds to wait after SIGTERM before killing.
        """
        if not self.processes:
            return
        # The worker first: it then stops its executors while the master is still there.
        stop_process_groups(list(reversed(self.processes.values())), timeout)
        self.processes.clear()

    def __enter__(self) -> StandaloneCluster:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _alive_workers(status: dict[str, Any]) -> int:
    """The workers the master's JSON status lists with state ALIVE."""
    return sum(1 for w in status.get("workers") or [] if isinstance(w, dict) and w.get("state") == "ALIVE")


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
