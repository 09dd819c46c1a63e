"""The kernels of `osteo serve` and `osteo lab`: this very Python's ipykernel, on Unix sockets.

- `NativeKernelSpecs` searches no kernelspec folder. jupyter_client searches the user's
  and the machine's Jupyter paths first, and a `python3` kernelspec found there wins over
  the native kernel: it could name another interpreter, one without this package or with
  other code. Its `kernel_dirs` is no configurable trait, so a subclass empties it.
- `transport = "ipc"`: a kernel's five ZMQ channels are Unix sockets beside its
  connection file, in the server's private runtime folder (mode 0700). Over TCP on
  127.0.0.1, jupyter_client's default, any local user could subscribe to a kernel's IOPub
  port and read every output: the messages are signed, not encrypted.
- `SlicedPollClient`, the client Voila runs a notebook through, waits for a kernel's
  messages in slices of at most `POLL_SLICE` seconds. A zmq socket's file descriptor
  signals edges, not levels, and pyzmq's asyncio integration can miss one: the kernel's
  reply then sits unread on the socket while the wait never ends, and the page with it
  (seen here: an app that never loaded, its kernel idle, `EVENTS` showing the message).
  A new poll reads `EVENTS` first, so a missed edge costs one slice, not the page.
"""

from __future__ import annotations

import time
from queue import Empty
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.kernelspec import KernelSpecManager
from traitlets import Type, default
from traitlets.config import Config


class NativeKernelSpecs(KernelSpecManager):
    """Only the kernel of the running Python (`ipykernel`'s own kernelspec)."""

    @default("kernel_dirs")
    def _kernel_dirs_default(self) -> list[str]:
        return []


POLL_SLICE = 0.5  # seconds


class SlicedPollChannel(AsyncZMQSocketChannel):
    """`get_msg` polling in slices, so that a missed wake-up costs one slice at most."""

    async def get_msg(self, timeout: float | None = None) -> dict[str, Any]:  # type: ignore[override]
        assert self.socket is not None
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = POLL_SLICE if deadline is None else deadline - time.monotonic()
            if await self.socket.poll(int(max(0.0, min(POLL_SLICE, left)) * 1000)):
                return await self._recv()
            if deadline is not None and time.monotonic() >= deadline:
                raise Empty


class SlicedPollClient(AsyncKernelClient):
    """The asyncio kernel client with `SlicedPollChannel` for its request channels."""

    shell_channel_class = Type(SlicedPollChannel)
    iopub_channel_class = Type(SlicedPollChannel)
    stdin_channel_class = Type(SlicedPollChannel)
    control_channel_class = Type(SlicedPollChannel)


def configure_kernels(config: Config) -> None:
    """Native kernels only, over Unix sockets, read by a client that cannot hang on a
    missed wake-up (both for Voila and for JupyterLab)."""
    config.VoilaConfiguration.kernel_spec_manager_class = NativeKernelSpecs
    config.ServerApp.kernel_spec_manager_class = NativeKernelSpecs
    config.KernelSpecManager.ensure_native_kernel = True
    config.KernelSpecManager.allowed_kernelspecs = {"python3"}
    config.KernelManager.transport = "ipc"
    config.AsyncKernelManager.client_factory = SlicedPollClient
