"""Child processes that end with their parent, and one `jeugdhulp run` per data directory at once.

Ending with the parent: a child started by the pipeline (the ingestion workers, the Great
Expectations process, dbt, the Dagster UI's services) asks the Linux kernel for a signal when the
thread that started it ends (`prctl(PR_SET_PDEATHSIG)`), so a `kill -9` of `jeugdhulp run` takes
its children with it instead of leaving a dbt writing the warehouse outside the single-writer
pool. The kernel ties the signal to the *thread* that forked the child: every child here is
started by the thread that then waits for it (a Dagster step's thread, `submit` of a
`ProcessPoolExecutor` with spawn, `subprocess.Popen`), never by a helper thread that may end
first. A parent that died before the child could ask is caught by checking the parent after the
request. Where the kernel call is missing (not Linux), multiprocessing children fall back to a
thread watching the parent's sentinel; programs run through the exec wrapper get no signal.

One run at a time: `RunLock` holds an exclusive `flock` on `<warehouse dir>/.run.pid` for the
whole run and records the run's pid, process group and a random token that every child inherits
through its environment (`RUN_TOKEN_ENV`). The kernel drops the lock whatever ends the run, so a
held lock means a live run (refused: `RunBusy`); a free lock with a record left in the file means
the last run died: processes still carrying its token are killed (by token, never by process
group: the group is the shell's job or the test runner's, shared with innocent processes) and the
ingestion spool folders of processes that no longer exist are removed. The run stays in the
terminal's process group, so Ctrl-C still reaches it and its children.

No Dagster here: the wrapper script for dbt imports this module with `python -I -S`.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import select
import shutil
import signal
import stat
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

PR_SET_PDEATHSIG = 1
RUN_TOKEN_ENV = "JEUGDHULP_RUN_TOKEN"
LOCK_NAME = ".run.pid"
SPOOL_FOLDER = ".ingest-spool"  # runner.py's; its folders are named run-<pid>-<random>
_ROOT = str(Path(__file__).resolve().parents[1])  # the folder holding the jeugdhulp package

# ---------------------------------------------------------------------------------- death signal


def set_parent_death_signal(signum: int = signal.SIGKILL) -> bool:
    """Ask the kernel for `signum` when the thread that started this process ends (Linux only).

    False where the call does not exist; the caller then decides what else to do."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return False
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0) == 0


def _stdout_pipe_orphaned() -> bool:
    """Our stdout is a pipe nobody reads any more: the process that made it (and read it) died."""
    try:
        if not stat.S_ISFIFO(os.fstat(1).st_mode):
            return False
        poller = select.poll()
        poller.register(1, select.POLLOUT)
        return any(event & select.POLLERR for _, event in poller.poll(0))
    except (OSError, ValueError):
        return False


def _parent_gone(parent_pid: int | None) -> bool:
    if parent_pid is not None:
        return os.getppid() != parent_pid
    # no pid to compare with (the dbt wrapper): adopted by init, or nobody reads what we write
    return os.getppid() == 1 or _stdout_pipe_orphaned()


def end_with_parent(signum: int = signal.SIGKILL, *, parent_pid: int | None = None) -> bool:
    """This process gets `signum` when its parent ends; it exits now if the parent already has.

    `parent_pid`, when known, is the process that started this one: a different parent now means
    it died before the kernel was asked (the race the request alone cannot close). Returns whether
    the kernel took the request."""
    armed = set_parent_death_signal(signum)
    if armed and _parent_gone(parent_pid):
        os._exit(1)
    return armed


def end_with_parent_process() -> None:
    """For a multiprocessing child (a pool initializer): end when the process that spawned it ends.

    The kernel's signal (SIGKILL: such a child holds nothing worth saving, the warehouse's
    transactions protect its data); where there is none, a thread waiting on the parent's
    sentinel, a pipe that reads as closed once the parent has ended. The sentinel also tells
    whether the parent died before the signal was asked for (multiprocessing took the parent's
    pid from `getppid()` while starting, so that pid may already be the reaper's)."""
    import multiprocessing
    import multiprocessing.connection

    parent = multiprocessing.parent_process()
    if parent is None:
        return
    armed = set_parent_death_signal(signal.SIGKILL)
    if multiprocessing.connection.wait([parent.sentinel], timeout=0) or (
        armed and os.getppid() != parent.pid
    ):
        os._exit(1)
    if armed:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


def exec_ending_with_parent(
    argv: list[str], signum: int = signal.SIGKILL, *, parent_pid: int | None = None
) -> None:
    """Become `argv` (execv keeps the death signal, unless argv[0] is set-user-ID).

    The signal is set to its default action and unblocked first: an ignored or blocked signal is
    inherited through fork and exec (a shell started with `nohup`, a test runner, a library
    that ignores SIGTERM), and the death signal would then arrive and do nothing."""
    if signum != signal.SIGKILL:
        signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signum])
    end_with_parent(signum, parent_pid=parent_pid)
    os.execv(argv[0], argv)


def wrapper_command(
    argv: list[str], signum: int = signal.SIGTERM, *, parent_pid: int | None = None
) -> list[str]:
    """The command that runs `argv` ending with the process that starts it (this one by default):
    for programs we start ourselves (the Dagster UI). The wrapper is this module's `main`, in an
    interpreter that starts in milliseconds (no site-packages, no PYTHON* variables), which then
    execs `argv` with this process's environment."""
    parent = os.getpid() if parent_pid is None else parent_pid
    bootstrap = (
        f"import sys; sys.path.insert(0, {_ROOT!r}); from jeugdhulp.processes import main; main()"
    )
    return [
        sys.executable,
        "-I",
        "-S",
        "-c",
        bootstrap,
        "--signal",
        signal.Signals(signum).name,
        "--parent",
        str(parent),
        "--",
        *argv,
    ]


_WRAPPER = """\
#!{python} -IS
# Written by jeugdhulp (jeugdhulp/processes.py): runs {program}
# so that it ends when the process that started it ends, then becomes that program.
import sys
sys.path.insert(0, {root!r})
from jeugdhulp.processes import exec_ending_with_parent
exec_ending_with_parent([{program!r}, *sys.argv[1:]], {signum})
"""


def write_exec_wrapper(path: Path, program: str | Path, signum: int = signal.SIGKILL) -> Path:
    """An executable file at `path` that runs `program` with the same arguments, ending with the
    process that starts it: for callers that take only an executable's path (dagster-dbt's
    `dbt_executable`). Written atomically, and only when its text changes."""
    text = _WRAPPER.format(
        python=sys.executable,
        program=str(program),
        root=_ROOT,
        signum=int(signum),
    )
    path = Path(path)
    try:
        if path.read_text() == text and os.access(path, os.X_OK):
            return path
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}")
    temporary.write_text(text)
    temporary.chmod(0o755)
    os.replace(temporary, path)
    return path


# ---------------------------------------------------------------------------------- one run


class RunBusy(RuntimeError):
    """Another `jeugdhulp run` holds this data directory; the message says which."""


@dataclass
class Cleanup:
    """What starting clean after a run that died took away."""

    previous_pid: int | None = None
    killed: list[int] = field(default_factory=list)
    spools_removed: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        said = []
        if self.killed:
            said.append(
                f"stopped {len(self.killed)} process(es) left by an interrupted run "
                f"(pid {self.previous_pid}): {', '.join(map(str, self.killed))}"
            )
        if self.spools_removed:
            said.append(
                f"removed {len(self.spools_removed)} spool folder(s) of interrupted ingestion"
            )
        return said


class RunLock:
    """One `jeugdhulp run` per data directory (see the module docstring).

    `acquire()` takes the lock or raises `RunBusy`, cleans up after a run that died, records this
    run and puts its token in this process's environment, so every child carries it; `release()`
    (or leaving the `with` block) clears the record, restores the environment and unlocks. The
    file is never removed: a removed lock file lets two runs lock two different files."""

    def __init__(self, warehouse_dir: Path) -> None:
        self.directory = Path(warehouse_dir)
        self.path = self.directory / LOCK_NAME
        self.token = uuid.uuid4().hex
        self.cleanup = Cleanup()
        self._fd: int | None = None
        self._previous_token: str | None = None

    def acquire(self) -> Cleanup:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            raise RunBusy(self._busy_message()) from None
        try:
            self.cleanup = start_clean(self.directory, _read_record(fd))
            record = {
                "pid": os.getpid(),
                "pgid": os.getpgid(0),  # for a person reading it: leftovers are found by token
                "token": self.token,
                "started": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            _write_record(fd, json.dumps(record) + "\n")
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self._previous_token = os.environ.get(RUN_TOKEN_ENV)
        os.environ[RUN_TOKEN_ENV] = self.token  # a process marker, not a run parameter
        return self.cleanup

    def release(self) -> None:
        if self._fd is None:
            return
        if self._previous_token is None:
            os.environ.pop(RUN_TOKEN_ENV, None)
        else:
            os.environ[RUN_TOKEN_ENV] = self._previous_token
        try:
            _write_record(self._fd, "")
        finally:
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()

    def _busy_message(self) -> str:
        try:
            record = json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            record = {}
        who = f"pid {record['pid']}" if "pid" in record else "another process"
        since = f", started {record['started']}" if "started" in record else ""
        return (
            f"another `jeugdhulp run` is going on this data directory ({who}{since}; lock "
            f"{self.path}). Wait until it has finished, or stop it, then run again."
        )


def _read_record(fd: int) -> dict:
    os.lseek(fd, 0, os.SEEK_SET)
    data = b""
    while chunk := os.read(fd, 65536):
        data += chunk
    try:
        record = json.loads(data.decode() or "{}")
    except (UnicodeDecodeError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _write_record(fd: int, text: str) -> None:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, text.encode())


def start_clean(warehouse_dir: Path, previous: dict) -> Cleanup:
    """After a run that died (its record still in the lock file): kill what still carries its
    token, and remove the spool folders of ingestion processes that no longer exist."""
    cleanup = Cleanup(previous_pid=previous.get("pid"))
    token = previous.get("token")
    if isinstance(token, str) and token:
        cleanup.killed = kill_processes_with_token(token)
    cleanup.spools_removed = remove_dead_spools(Path(warehouse_dir) / SPOOL_FOLDER)
    return cleanup


def processes_with_token(token: str) -> list[int]:
    """Processes (of this user: others' environments are unreadable) started with this token."""
    marker = f"{RUN_TOKEN_ENV}={token}".encode()
    found: list[int] = []
    if not os.path.isdir("/proc"):
        return found
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as environ:
                if marker in environ.read().split(b"\0"):
                    found.append(int(entry.name))
        except OSError:  # gone meanwhile, or not ours
            continue
    return sorted(found)


def kill_processes_with_token(token: str, *, wait_seconds: float = 5.0) -> list[int]:
    """SIGKILL every process carrying the token; wait (a little) until they are gone."""
    killed = []
    for pid in processes_with_token(token):
        try:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + wait_seconds
    while any(_running(pid) for pid in killed) and time.monotonic() < deadline:
        time.sleep(0.05)
    return killed


def _running(pid: int) -> bool:
    """Alive and not a zombie (a killed process is a zombie until its new parent reaps it)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat_file:
            state = stat_file.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return pid_alive(pid) if not os.path.isdir("/proc") else False
    return state not in (b"Z", b"X")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_dead_spools(spool_root: Path) -> list[str]:
    """Remove the spool folders (`run-<pid>-…`) whose process no longer exists."""
    removed = []
    try:
        entries = list(os.scandir(spool_root))
    except FileNotFoundError:
        return removed
    for entry in entries:
        parts = entry.name.split("-")
        if len(parts) < 3 or parts[0] != "run" or not parts[1].isdigit():
            continue
        if pid_alive(int(parts[1])):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.name)
    return removed


# ---------------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> None:
    """`python -m jeugdhulp.processes [--signal NAME] [--parent PID] -- program args…`"""
    args = list(sys.argv[1:] if argv is None else argv)
    signum, parent = signal.SIGTERM, None
    while args and args[0] != "--":
        option = args.pop(0)
        if option == "--signal" and args:
            name = args.pop(0).upper()
            signum = signal.Signals[name if name.startswith("SIG") else f"SIG{name}"]
        elif option == "--parent" and args:
            parent = int(args.pop(0))
        else:
            sys.exit(
                f"usage: python -m jeugdhulp.processes [--signal NAME] [--parent PID] -- "
                f"program [args…] (not understood: {option})"
            )
    if not args[1:]:
        sys.exit("usage: python -m jeugdhulp.processes [--signal NAME] [--parent PID] -- program")
    program = args[1:]
    resolved = shutil.which(program[0])
    if resolved is None:
        sys.exit(f"jeugdhulp.processes: {program[0]}: not found")
    exec_ending_with_parent([resolved, *program[1:]], signum, parent_pid=parent)


if __name__ == "__main__":
    main()
