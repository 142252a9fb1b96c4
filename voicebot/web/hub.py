"""Doorbells for the trainer's live view: what changed in a class, pushed to the trainer sockets.

A call's thread rings when the call starts or ends and at each of its events; a drill's thread rings
with each scored answer. A trainer socket (`/ws/trainer`) subscribed to the class wakes at once and
sends the page what is new: the calls list, the selected call's new events (read from its
`events.jsonl`, the record every process shares), the drill result. The bell carries no call data
itself, so a page never sees an event the record does not hold.

Bells ring across threads (the calls run in threads of their own), never across processes: a
trainer socket also looks at the store and the record every `FALLBACK_S` for calls held by another
`voicebot serve` on the same database.
"""
from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Final

FALLBACK_S: Final = 2.0
"""How often a trainer socket looks for changes no bell announced (calls held by other server
processes): slow enough to cost nothing, the in-process bell is what makes the view live."""


@dataclass(frozen=True)
class Bell:
    """Something changed in a class."""

    kind: str
    """calls (a call started or ended), event (a call's new event), drill (a scored drill answer)."""
    class_id: int
    """The class it happened in."""
    call_id: int | None = None
    """The call, for `event`."""
    data: dict[str, Any] | None = None
    """The drill result (with the trainee), for `drill`."""
    at: float = field(default_factory=time.time)
    """When it rang (seconds since the epoch): the page measures how late it showed the change."""


@dataclass(eq=False)
class Subscriber:
    """One trainer socket: its event loop, its queue and the classes it may hear of."""

    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Bell | None]
    class_ids: frozenset[int]


class Hub:
    """The bells of one server process (thread-safe)."""

    def __init__(self) -> None:
        self._subs: list[Subscriber] = []
        self._lock = threading.Lock()

    def subscribe(self, class_ids: set[int] | frozenset[int]) -> Subscriber:
        """Call from the trainer socket's event loop."""
        sub = Subscriber(asyncio.get_running_loop(), asyncio.Queue(), frozenset(class_ids))
        with self._lock:
            self._subs.append(sub)
        return sub

    def update(self, sub: Subscriber, class_ids: set[int] | frozenset[int]) -> None:
        """The trainer made a class: hear of it too."""
        sub.class_ids = frozenset(class_ids)

    def unsubscribe(self, sub: Subscriber) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    def ring(self, bell: Bell) -> None:
        """From any thread: wake every trainer socket that may see this class."""
        with self._lock:
            subs = [s for s in self._subs if bell.class_id in s.class_ids]
        for sub in subs:
            try:
                sub.loop.call_soon_threadsafe(sub.queue.put_nowait, bell)
            except RuntimeError:
                pass   # that socket's loop has closed (server shutting down)
