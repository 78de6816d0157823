"""A local stand-in for Fanvue's chat API, for tests, the demo and benchmarks."""

from .runner import Sandbox
from .world import RequestRecord, World

__all__ = ["RequestRecord", "Sandbox", "World"]
