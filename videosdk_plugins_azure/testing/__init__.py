"""Run agents with any realtime model through the real VideoSDK framework, offline.

:class:`LocalRoom` stands in for the VideoSDK meeting and nothing else: the
``AgentSession``, ``Pipeline``, output track and meeting listener are the
framework's own, so a test sees what a call would. Use it to test this plugin,
or your own agent with any ``RealtimeBaseModel``::

    async with LocalRoom(MyAgent(), Pipeline(llm=model)) as room:
        await room.play(pcm, rate=24000)
        await room.wait_for_event("agent_speech_ended")
        print(room.chat_items())

With pytest, the package's plugin (:mod:`.pytest_plugin`) gives the same room
against the emulator as the ``voicelive_local_room`` fixture.

The names are imported on first use: pytest imports this package to load the
plugin in every run, and most runs never need the framework.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_names

if TYPE_CHECKING:
    from ._events import BUS_EVENTS, MODEL_EVENTS, PIPELINE_EVENTS, SESSION_EVENTS, Event
    from ._fixtures import DefaultAgent, ModelFactory, RoomFactory, VoiceLiveRoom
    from ._room import LocalRoom

_MODULE_OF = {
    "BUS_EVENTS": "._events",
    "MODEL_EVENTS": "._events",
    "PIPELINE_EVENTS": "._events",
    "SESSION_EVENTS": "._events",
    "Event": "._events",
    "LocalRoom": "._room",
    "DefaultAgent": "._fixtures",
    "ModelFactory": "._fixtures",
    "RoomFactory": "._fixtures",
    "VoiceLiveRoom": "._fixtures",
}


__getattr__, __dir__ = lazy_names(__name__, globals(), _MODULE_OF)

__all__ = [
    "BUS_EVENTS",
    "MODEL_EVENTS",
    "PIPELINE_EVENTS",
    "SESSION_EVENTS",
    "DefaultAgent",
    "Event",
    "LocalRoom",
    "ModelFactory",
    "RoomFactory",
    "VoiceLiveRoom",
]
