"""Drive the real `age` CLI on a pseudo-terminal (it reads passphrases only from a terminal).

No import of osteo_analytics here: the recovery test uses this to prove that standard
tools alone recover the data.
"""

from __future__ import annotations

import os
import pty
import select
import time


def run_age_with_terminal(args: list[str], passphrase: str, timeout: float = 60) -> str:
    """Run `age` on a pseudo-terminal, typing `passphrase` at each prompt; return the screen.

    age 1.1 reads passphrases only from the terminal (no env variable, no batch plugin),
    so we drive a real one, like `expect` would.
    """
    pid, fd = pty.fork()
    if pid == 0:  # child: the pty is its controlling terminal
        os.execvp("age", ["age", *args])
    screen, answered, deadline = b"", 0, time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 1024)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            screen += chunk
            while screen.lower().count(b"passphrase") > answered:
                os.write(fd, passphrase.encode() + b"\n")
                answered += 1
        else:
            os.kill(pid, 9)
    finally:
        os.close(fd)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, screen.decode(errors="replace")
    return screen.decode(errors="replace")
