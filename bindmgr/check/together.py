"""One event loop run for all of a command's network work: bind checks, greetings, DNS lookups.

`run_together(a, b, ...)` runs the coroutines concurrently in one `asyncio.run` (a TaskGroup: if
one fails, the others are cancelled and awaited) and returns their results in order. The
binds run in batches on the loop's thread and yield between them, so lookups and connections
proceed while a check binds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


def run_together(*work: Coroutine[Any, Any, Any]) -> tuple[Any, ...]:
    results: list[Any] = []

    async def main() -> None:  # returns None: see probe.run_check on asyncio.run's result repr
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(w) for w in work]
        except ExceptionGroup as failures:  # one could not continue: say why, not "a group"
            raise failures.exceptions[0] from None
        results.extend(task.result() for task in tasks)

    asyncio.run(main())
    return tuple(results)
