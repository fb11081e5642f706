"""The connection's lifecycle as the call core sees it: setup, drops, retries, rotation.

A layer of :class:`.call.CallCore`, kept apart because it answers one question —
what happens to the call when its socket comes and goes — and the transport is
its only caller: it reports the socket's fate here and asks what to do next.
"""

from __future__ import annotations

import logging
from typing import Any

from ..errors import VoiceLiveAuthError, VoiceLiveConnectError, VoiceLiveError
from .base import CallBase
from .effects import Effect, FinishPlayback, Reconnect, SendAudio, Settled
from .link import Trigger
from .responses import Response

__all__ = ["Lifecycle"]

log = logging.getLogger("videosdk_plugins_azure")


class Lifecycle(CallBase):
    """The call core's connection-lifecycle methods; the state is :class:`.base.CallBase`'s."""

    def connecting(self) -> dict[str, Any]:
        """A connection attempt starts; returns its configuring ``session.update``."""
        self.link.fire(Trigger.CONNECT)
        self.setup_error = None
        replaying = self.link.recovering and not self.history.replay_failed
        return self.spec.update_event(
            context_instructions=self.context(self.spec.instructions), replaying=replaying
        )

    def opened(self) -> None:
        self.link.fire(Trigger.OPENED)

    def replay_events(self) -> list[dict[str, Any]]:
        """The conversation to re-create on this connection (empty on the first one)."""
        return self.history.replay_events() if self.link.recovering else []

    def live(self) -> list[Effect]:
        """The connection is configured and carries the conversation: let everything flow."""
        self.link.fire(Trigger.LIVE)
        self._auth_retried = False
        self._live_since = self.clock()
        for block in self.input.drain():
            self._out.append(SendAudio(block))
        request = self.calls.next_request()
        if request is not None:
            self.send_create(request.request_id, request.params)
        return self.take()

    def setup_failed(self) -> None:
        self.link.fire(Trigger.SETUP_FAILED)

    def retry_delay(
        self, exc: VoiceLiveError, attempt: int, rand: float, elapsed: float = 0.0
    ) -> float | None:
        """Seconds before the next connection attempt, or None to stop trying.

        A refused credential on a *re*connect is tried once more at once: a cached
        token may have been revoked, and the next connect fetches a fresh one.
        """
        if isinstance(exc, VoiceLiveAuthError):
            if self.link.recovering and not self._auth_retried:
                self._auth_retried = True
                return 0.0
            return None
        if not exc.recoverable or attempt > self.policy.max_attempts:
            return None
        delay = self.policy.delay(attempt + 1 + self._young_deaths, rand)
        if elapsed + delay > self.policy.give_up_after:
            return None
        return delay

    def recovery_delay(self, rand: float) -> float:
        """Seconds before a recovery's first attempt: zero, unless sessions die young."""
        return self.policy.delay(1 + self._young_deaths, rand)

    def socket_closed(self, code: int) -> list[Effect]:
        """The server closed (or the network dropped) the current socket."""
        if self.link.setting_up:
            self._fail_setup(
                VoiceLiveConnectError(
                    "connection_closed",
                    f"Voice Live closed the connection (code {code}) during setup",
                    recoverable=True,
                )
            )
        elif self.link.ready:
            self._count_young_death()
            if self._young_deaths > self.policy.max_attempts:
                lived = self.policy.young_session
                self.fail(
                    f"{self._young_deaths} sessions in a row closed within {lived:g}s "
                    f"of opening (last: code {code})",
                    "connection_unstable",
                )
            elif self.link.fire(Trigger.DROPPED):
                self.effect(Reconnect(f"connection closed (code {code})", error=True))
        return self.take()

    def _count_young_death(self) -> None:
        lived = self.clock() - self._live_since
        self._young_deaths = self._young_deaths + 1 if lived < self.policy.young_session else 0

    def _fail_setup(self, error: VoiceLiveError) -> None:
        if self.setup_error is None:
            self.setup_error = error
        self.effect(Settled())

    def rotate(self) -> list[Effect]:
        """Move to a fresh session (before the service's cap); only from a live, idle call."""
        if self.idle and self.link.fire(Trigger.ROTATE):
            self.effect(Reconnect("session rotation", error=False))
        return self.take()

    def connection_reset(self, cause: str, *, error: bool) -> list[Effect]:
        """The old socket is gone: end what it was carrying (a recovery starts).

        A drop is the pipeline's business (``error``); a planned rotation is not.
        """
        self._fail_playback()
        if error:
            log.warning("Voice Live %s; reconnecting", cause)
            self.emit(
                "error", VoiceLiveError("connection_lost", f"Voice Live {cause}; reconnecting")
            )
        return self.take()

    def recovered(self, cause: str, downtime: float) -> list[Effect]:
        self.reconnects += 1
        log.info("Voice Live session restored after %s in %.2fs", cause, downtime)
        payload = {"cause": cause, "downtime_s": downtime, "reconnects": self.reconnects}
        self.emit("session_reconnected", payload)
        return self.take()

    def give_up(self, message: str, code: str = "connection_lost") -> list[Effect]:
        """Tell the pipeline once; from now on caller audio is dropped without a sound."""
        self.fail(message, code)
        return self.take()

    def fail(self, message: str, code: str) -> None:
        if self.link.fire(Trigger.GIVE_UP):
            self._fail_playback()
            log.error("Voice Live: %s", message)
            self.emit("error", VoiceLiveError(code, message, recoverable=False))

    def close(self) -> list[Effect]:
        """``aclose()``: final transcripts, and the speaker told the answer ended."""
        self.link.fire(Trigger.CLOSE)
        self.release_metrics_turn()
        for _, text in self.calls.flush_transcripts():
            self.agent_final(text)
        if self.speaker.present() and self.calls.active is not None:
            self.effect(FinishPlayback())
        self.input.close()
        return self.take()

    def _fail_playback(self) -> None:
        """A response cut off by a drop must still end, or the pipeline waits forever."""
        cut = self.calls.connection_reset()
        if cut is not None:
            self.end_cut_response(cut)

    def end_cut_response(self, cut: Response) -> None:
        """Finish a response that will never see its ``response.done``."""
        self.finish(cut)
        if cut.final_text is None and cut.transcript:
            self.finals(cut.id, cut.transcript, wait_for_playout=self.speaker.present())
