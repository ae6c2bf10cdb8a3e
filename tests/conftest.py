"""The suite's order: the tests marked ``slow`` (each tens of seconds: real place-and-route,
co-simulation, 8- and 16-lane accelerators in Icarus) run first, the rest after them in their usual
order.

With the Makefile's two workers handing out one test at a time (``--dist load --maxschedchunk 1``)
this is longest-first scheduling: the short tests fill in at the end, so that neither worker is left
running a minute-long test alone while the other has nothing to do.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable: order kept within
