"""How the service shortens a transcript when the audio behind it is truncated.

The plugin (to keep the chat history to what the caller heard) and the emulator
(to answer ``conversation.item.truncate`` as the service does) must cut the same
text at the same place, so the rule lives here once.
"""

from __future__ import annotations

__all__ = ["cut_text"]


def cut_text(text: str, heard_ms: float, total_ms: float) -> str:
    """The part of ``text`` spoken in the first ``heard_ms`` of ``total_ms`` of audio.

    The share kept is proportional by characters, cut back to the last whitespace
    so no half word is left; a single word with no boundary is cut mid-word rather
    than dropped, since some of it was heard. An unknown length (``total_ms <= 0``)
    or hearing it all leaves the text untouched: there is nothing to cut by.
    """
    if total_ms <= 0 or heard_ms >= total_ms:
        return text
    if heard_ms <= 0:
        return ""
    keep = round(len(text) * heard_ms / total_ms)
    if keep >= len(text):
        return text
    head = text[:keep]
    if not text[keep].isspace():
        boundary = max((i for i, char in enumerate(head) if char.isspace()), default=-1)
        if boundary >= 0:
            head = head[:boundary]
    return head.strip()
