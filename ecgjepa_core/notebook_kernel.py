"""The kernel manager the notebook runner executes notebooks with.

jupyter_client shuts a kernel down by first interrupting it (SIGINT), then asking it to exit. After a notebook
has run to its end there is nothing to interrupt, but the signal can still land while the kernel finishes
handling the last cell's message (flushing its output, restoring its signal handlers; slow on a busy machine):
ipykernel then logs ``[IPKernelApp] ERROR | KeyboardInterrupt caught in kernel.`` on the terminal of a
successful run. This manager skips the interrupt when the kernel is being shut down; interrupting a running
kernel (an execution timeout) is unchanged.
"""

from __future__ import annotations

from jupyter_client import AsyncKernelManager


class QuietShutdownKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` that does not interrupt the kernel it is shutting down."""

    async def _async_interrupt_kernel(self) -> None:
        if self.shutting_down:
            return
        await super()._async_interrupt_kernel()
