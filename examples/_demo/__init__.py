"""The pieces of ``offline_demo.py``, one concern each.

* :mod:`.script`: what the caller says, what the (emulated) model answers, the agent;
* :mod:`.audio`: the agent's track frames as PCM, placed on the call's clock, and
  ``conversation.wav``;
* :mod:`.call`: what the call did (:class:`~.call.Call`) and the caller who drives it;
* :mod:`.summary`: ``summary.json`` and the printed summary;
* :mod:`.timeline`: ``timeline.png``, its text placed by :mod:`.labels` (pure layout:
  labels wrap at words and never run into a marker line).

They live in a package next to the script, imported as ``_demo`` the way the
examples import ``_env``, so the script itself stays a short, readable entry point.
"""

__all__: list[str] = []
