"""A pragmatic sandbox for running a student's notebook: resource limits and a file-system guard.

The grader starts each submission's kernel as ``python -m mslib.sandbox -f CONNECTION_FILE``. Before
IPython starts, that sets

- resource limits: address space (``RLIMIT_AS``, so a huge allocation fails with ``MemoryError``),
  CPU seconds (``RLIMIT_CPU``, a backstop to the grader's wall-clock timeout) and the size of any
  file written (``RLIMIT_FSIZE``);
- a CPython audit hook (``sys.addaudithook``; user code cannot remove it) that refuses, with a
  ``PermissionError``, opening a file for writing, creating, removing, renaming, linking or changing
  the mode of anything outside one folder (the submission's temporary copy), starting processes,
  signalling other processes, raising resource limits and opening SQLite files outside the folder.
  Each refusal is also written to a log that the grader reports.

What it does not contain: code that bypasses Python's audit events (``ctypes`` calls into libc,
C extensions that open files themselves, e.g. ``torch.save`` to a path), reading files anywhere,
and network access. It keeps honest mistakes and casual mischief away from other files; it is
not a security boundary against a determined attacker. The limits come from the environment:
``MSLIB_SANDBOX_ROOT`` (required), ``MSLIB_SANDBOX_LOG``, ``MSLIB_SANDBOX_MEMORY_MB``,
``MSLIB_SANDBOX_CPU_S`` and ``MSLIB_SANDBOX_FILE_MB``.
"""

from __future__ import annotations

import os
import resource
import sys
import threading
from typing import Any

ROOT_ENV = "MSLIB_SANDBOX_ROOT"
LOG_ENV = "MSLIB_SANDBOX_LOG"
MEMORY_ENV = "MSLIB_SANDBOX_MEMORY_MB"
CPU_ENV = "MSLIB_SANDBOX_CPU_S"
FILE_ENV = "MSLIB_SANDBOX_FILE_MB"

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
#: Events that change the file system at the paths in the given argument positions, and the
#: position of their ``dir_fd`` argument (-1 or None when absent), if they have one.
_PATH_EVENTS: dict[str, tuple[tuple[int, ...], int | None]] = {
    "os.remove": ((0,), 1),
    "os.rmdir": ((0,), 1),
    "os.mkdir": ((0,), 2),
    "os.rename": ((0, 1), 2),
    "os.link": ((0, 1), 2),
    "os.symlink": ((1,), 2),
    "os.chmod": ((0,), 2),
    "os.chown": ((0,), 3),
    "os.truncate": ((0,), None),
    "os.utime": ((0,), 3),
    "os.chflags": ((0,), None),
    "os.setxattr": ((0,), None),
    "os.removexattr": ((0,), None),
    "os.mkfifo": ((0,), 2),
    "os.mknod": ((0,), 3),
    "shutil.rmtree": ((0,), 1),
    "sqlite3.connect": ((0,), None),
}
_REFUSED_EVENTS = frozenset({
    "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
    "pty.spawn", "resource.setrlimit", "resource.prlimit", "os.killpg",
})
_ALLOWED_FILES = frozenset({os.devnull, ":memory:", ""})


def set_limits(memory_mb: int | None, cpu_s: int | None, file_mb: int | None) -> None:
    """Limit this process's address space, CPU time and written file size (``None``: no limit)."""
    for name, value in (("memory_mb", memory_mb), ("cpu_s", cpu_s), ("file_mb", file_mb)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
            raise ValueError(f"{name} must be a positive whole number or None, got {value!r}")
    if memory_mb is not None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))
    if cpu_s is not None:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 5))
    if file_mb is not None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_mb * 2**20, file_mb * 2**20))


def install_guard(root: str, log_path: str | None = None) -> None:
    """Refuse, from now on and in this process, changes to the file system outside ``root``.

    See the module's docstring for what is refused. Refusals raise ``PermissionError`` in the code
    that tried, and are appended to ``log_path`` (opened now, before the guard is active).
    """
    if not isinstance(root, str) or not os.path.isdir(root):
        raise ValueError(f"root must be an existing folder, got {root!r}")
    root = os.path.realpath(root)
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600) if log_path else None
    busy = threading.local()
    me = os.getpid()

    def inside(path: Any, dir_fd: Any = None) -> bool:
        if isinstance(path, int):  # an open file descriptor: it was checked when opened
            return True
        try:
            name = os.fsdecode(path)
        except TypeError:
            return False
        if name in _ALLOWED_FILES or name.startswith("file::memory:"):
            return True
        if dir_fd not in (None, -1) and not os.path.isabs(name):  # relative to an open folder (shutil.rmtree)
            try:
                name = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), name)
            except (OSError, TypeError):
                return False
        resolved = os.path.realpath(name)
        return resolved == root or resolved.startswith(root + os.sep) or resolved in _ALLOWED_FILES

    def refuse(event: str, args: tuple) -> None:
        what = f"{event}{tuple(str(a)[:200] for a in args)}"
        if log_fd is not None:
            os.write(log_fd, (what + "\n").encode("utf-8", "replace"))
        raise PermissionError(f"the grading sandbox refused {what}: only the notebook's own folder may be changed")

    def verdict(event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = args
            if isinstance(flags, int) and flags & _WRITE_FLAGS:
                # os.open (mode None) does not report its dir_fd: a relative path might be anywhere
                if not inside(path) or (mode is None and isinstance(path, (str, bytes)) and not os.path.isabs(path)):
                    refuse(event, args)
        elif event in _PATH_EVENTS:
            positions, dir_fd = _PATH_EVENTS[event]
            folder = args[dir_fd] if dir_fd is not None else None
            if not all(inside(args[i], folder) for i in positions):
                refuse(event, args)
        elif event == "os.kill":
            if args[0] not in (0, me):
                refuse(event, args)
        elif event in _REFUSED_EVENTS:
            refuse(event, args)

    def hook(event: str, args: tuple) -> None:
        if getattr(busy, "on", False):
            return
        busy.on = True
        try:
            verdict(event, args)
        finally:
            busy.on = False

    sys.addaudithook(hook)


def _limit(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value else None


def main(argv: list[str] | None = None) -> None:
    """Start an IPython kernel (arguments as ``ipykernel_launcher``'s) inside the limits and guard."""
    root = os.environ.get(ROOT_ENV)
    if not root:
        raise SystemExit(f"{ROOT_ENV} must name the folder the kernel may change")
    set_limits(_limit(MEMORY_ENV), _limit(CPU_ENV), _limit(FILE_ENV))
    import platform

    from ipykernel import kernelapp  # imported before the guard: it may write caches while importing

    platform.processor()  # cached now: later calls would start `uname -p`, which the guard refuses

    install_guard(root, os.environ.get(LOG_ENV))
    kernelapp.launch_new_instance(argv=sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
