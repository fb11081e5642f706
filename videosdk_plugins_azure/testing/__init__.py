"""Run agents with any realtime model through the real VideoSDK framework, offline.

:class:`LocalRoom` stands in for the VideoSDK meeting and nothing else: the
``AgentSession``, ``Pipeline``, output track and meeting listener are the
framework's own, so a test sees what a call would. Use it to test this plugin,
or your own agent with any ``RealtimeBaseModel``::

    async with LocalRoom(MyAgent(), Pipeline(llm=model)) as room:
        await room.play(pcm, rate=24000)
        await room.wait_for_event("agent_speech_ended")
        print(room.chat_items())
"""

from ._events import BUS_EVENTS, MODEL_EVENTS, PIPELINE_EVENTS, SESSION_EVENTS, Event
from ._room import LocalRoom

__all__ = [
    "BUS_EVENTS",
    "MODEL_EVENTS",
    "PIPELINE_EVENTS",
    "SESSION_EVENTS",
    "Event",
    "LocalRoom",
]
