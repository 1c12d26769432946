"""What the testing kit's servers and watchers share: a ``with`` block starts and stops them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class Service(ABC):
    """Started on entering a ``with`` block (``start`` returns the started object), stopped on
    leaving it, however the block ends."""

    @abstractmethod
    def start(self) -> Self:
        """Start, and return the started object."""

    @abstractmethod
    def stop(self) -> object:
        """Stop; what it returns (if anything) is the subclass's to say."""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
