"""Drive the real `age` CLI on a pseudo-terminal (it reads passphrases only from a terminal).

No import of osteo_analytics here: the recovery test uses this to prove that standard
tools alone recover the data.
"""

from __future__ import annotations

import os
import pty
import select
import time
from collections.abc import Callable


def run_on_terminal(
    argv: list[str],
    answer: Callable[[bytes], bytes],
    *,
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = 60,
) -> tuple[int, str]:
    """Run `argv` on a pseudo-terminal (its controlling terminal); return (exit code, screen).

    After each read, `answer(screen so far)` gives the bytes to type now (b"" for none),
    like `expect` would. The child is killed after `timeout` seconds.
    """
    pid, fd = pty.fork()
    if pid == 0:  # child: the pty is its controlling terminal, hidden prompts work
        if cwd is not None:
            os.chdir(cwd)
        os.execvpe(argv[0], argv, os.environ if env is None else env)
    screen, deadline = b"", time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 1024)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            screen += chunk
            typed = answer(screen)
            if typed:
                os.write(fd, typed)
        else:
            os.kill(pid, 9)
    finally:
        os.close(fd)
        _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), screen.decode(errors="replace")


def run_age_with_terminal(args: list[str], passphrase: str, timeout: float = 60) -> str:
    """Run `age` on a pseudo-terminal, typing `passphrase` at each prompt; return the screen.

    age 1.1 reads passphrases only from the terminal (no env variable, no batch plugin),
    so we drive a real one.
    """
    answered = 0

    def answer(screen: bytes) -> bytes:
        nonlocal answered
        prompts = screen.lower().count(b"passphrase")
        typed = (passphrase.encode() + b"\n") * (prompts - answered)
        answered = max(answered, prompts)
        return typed

    code, screen = run_on_terminal(["age", *args], answer, timeout=timeout)
    assert code == 0, screen
    return screen
