"""A real single-node SLURM cluster on loopback for tests: munge + slurmctld + slurmd from Debian's packages
(.ci/run installs them), a generated slurm.conf under a temporary folder, and a `sacct` stand-in (there is no
accounting database) so submitit notices jobs that die without a result. Torn down completely afterwards."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

DAEMONS = ("slurmctld", "slurmd", "munged")

SACCT = """#!/usr/bin/env bash
# Stand-in for `sacct -o JobID,State,NodeList --parsable2 -j IDS` answered from squeue (no accounting storage).
ids=""; while [ $# -gt 0 ]; do case "$1" in -j) ids="$2"; shift;; esac; shift; done
echo "JobID|State|NodeList"
[ -n "$ids" ] && squeue -h -r -t all -j "$ids" -o '%i|%T|%N' 2>/dev/null
exit 0
"""


def missing() -> str | None:
    """Why a cluster cannot be started here, or None."""
    absent = [d for d in ("slurmctld", "slurmd", "munged", "sinfo", "squeue", "sbatch") if not shutil.which(d)]
    if absent:
        return f"SLURM/munge not installed (missing {', '.join(absent)}); .ci/run installs them with apt"
    if os.geteuid() != 0:
        return "starting slurmd/munged needs root"
    return None


def _slurm_conf(root: Path) -> str:
    probe = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, check=True).stdout.splitlines()[0]
    fields = dict(f.split("=", 1) for f in probe.split() if "=" in f)
    memory = int(int(fields.get("RealMemory", "4000")) * 0.85)
    node = f"NodeName=localhost CPUs={fields.get('CPUs', '2')} RealMemory={memory} State=UNKNOWN"
    for key in ("Boards", "SocketsPerBoard", "CoresPerSocket", "ThreadsPerCore"):
        if key in fields:
            node += f" {key}={fields[key]}"
    return "\n".join(
        [
            "ClusterName=reverie-test",
            "SlurmctldHost=localhost",
            "SlurmUser=root",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core_Memory",
            "DefMemPerCPU=1000",
            "SchedulerParameters=batch_sched_delay=0",
            "MinJobAge=3600",
            "MailProg=/bin/true",
            "ReturnToService=2",
            f"StateSaveLocation={root}/state",
            f"SlurmdSpoolDir={root}/spool",
            f"SlurmctldPidFile={root}/slurmctld.pid",
            f"SlurmdPidFile={root}/slurmd.pid",
            f"SlurmctldLogFile={root}/slurmctld.log",
            f"SlurmdLogFile={root}/slurmd.log",
            "SlurmctldPort=16817",
            "SlurmdPort=16818",
            node,
            "PartitionName=debug Nodes=ALL Default=YES State=UP MaxTime=INFINITE",
            "",
        ]
    )


def _start_munge(root: Path) -> int | None:
    """Start munged unless one is running; returns its pid if we started it."""
    if subprocess.run(["pgrep", "-x", "munged"], capture_output=True).returncode == 0:
        return None
    Path("/run/munge").mkdir(parents=True, exist_ok=True)
    shutil.chown("/run/munge", "munge", "munge")
    if not Path("/etc/munge/munge.key").is_file():
        subprocess.run(["mungekey", "--create"], check=True)
        shutil.chown("/etc/munge/munge.key", "munge", "munge")
    subprocess.run(["runuser", "-u", "munge", "--", "/usr/sbin/munged"], check=True)
    time.sleep(0.3)
    out = subprocess.run(["pgrep", "-x", "munged"], capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None


def _stop(pid_file: Path) -> None:
    with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError):
        pid = int(pid_file.read_text().strip())
        os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            os.kill(pid, 0)
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def local_slurm(root: Path) -> Iterator[dict[str, str]]:
    """Yields the environment (SLURM_CONF, PATH with the sacct stand-in) for talking to the cluster."""
    root.mkdir(parents=True, exist_ok=True)
    for sub in ("state", "spool", "bin"):
        (root / sub).mkdir(exist_ok=True)
    conf = root / "slurm.conf"
    conf.write_text(_slurm_conf(root))
    sacct = root / "bin" / "sacct"
    sacct.write_text(SACCT)
    sacct.chmod(0o755)
    env = {**os.environ, "SLURM_CONF": str(conf), "PATH": f"{root / 'bin'}:{os.environ['PATH']}"}
    munge_pid = _start_munge(root)
    try:
        subprocess.run(["slurmctld", "-c", "-f", str(conf)], env=env, check=True)
        subprocess.run(["slurmd", "-f", str(conf), "-N", "localhost"], env=env, check=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            state = subprocess.run(
                ["sinfo", "-h", "-n", "localhost", "-o", "%T"], env=env, capture_output=True, text=True, timeout=20
            ).stdout.strip()
            if re.match(r"idle|mixed|allocated", state):
                break
            time.sleep(0.2)
        else:
            raise RuntimeError(
                f"the SLURM node did not come up: {state!r}\n{(root / 'slurmctld.log').read_text()[-2000:]}"
            )
        yield env
    finally:
        if (root / "slurmctld.pid").is_file():
            subprocess.run(["scancel", "--user", "root"], env=env, capture_output=True, timeout=20)
        _stop(root / "slurmd.pid")
        _stop(root / "slurmctld.pid")
        if munge_pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(munge_pid, signal.SIGTERM)
