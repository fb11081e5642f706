"""The connection machine under random fault sequences (Hypothesis stateful testing).

A small harness plays the transport's part with no sockets: it opens, configures,
replays and loses connections when the rules say so, and asks the core every
question the real transport asks (retry? after how long? rotate now?). Random
sequences of setup closes, live drops, fatal and benign errors, speech, answers,
rotations and closing are thrown at it; after every step the invariants the
plugin promises must hold:

* never ``ready`` without a live socket, and a live socket is ``ready``;
* always live, setting up, recovering, or given up (with the pipeline told once);
* no recovery starts after the call gave up or closed, and never two at once.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from videosdk_plugins_azure import ReconnectPolicy
from videosdk_plugins_azure.core import LinkState
from videosdk_plugins_azure.core import effects as fx

from .conftest import make_core

CODES = st.sampled_from([1000, 1001, 1006, 1011])
ERRORS = st.sampled_from(
    ["session_expired", "response_cancel_not_active", "server_error", "insufficient_quota"]
)


class LinkModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        policy = ReconnectPolicy(max_attempts=3, give_up_after=30.0, young_session=1.0)
        self.call = make_core(policy=policy)
        self.core = self.call.core
        self.socket: str | None = None
        """None, "setup" or "live": what the harness's fake socket is doing."""
        self.started = False
        self.establishing = False
        """A connect or a recovery is under way: the transport's ``establish`` loop."""
        self.recovery_pending = False
        self.attempt = 0
        self.recoveries_started = 0
        self.connect_failed = False

    # -- the transport's part -----------------------------------------------------------

    def perform(self, effects: list[fx.Effect], *, recorded: bool = False) -> None:
        """Carry out effects as the transport would (``recorded``: the driver already has)."""
        if not recorded:
            self.call.run(effects)
        for effect in effects:
            if isinstance(effect, fx.Reconnect):
                assert not self.recovery_pending, "a second recovery while one is pending"
                assert not self.core.link.ended
                self.recovery_pending = self.establishing = True
                self.recoveries_started += 1
                self.socket = None
                self.call.run(self.core.connection_reset(effect.cause, error=effect.error))
            elif isinstance(effect, fx.CloseSocket):
                self.socket = None

    def attempt_failed(self) -> None:
        from videosdk_plugins_azure.errors import VoiceLiveConnectError

        self.core.setup_failed()
        self.socket = None
        error = self.core.setup_error or VoiceLiveConnectError("x", "x", recoverable=True)
        self.attempt += 1
        if self.core.retry_delay(error, self.attempt, 0.5, elapsed=float(self.attempt)) is None:
            if self.recovery_pending:
                self.perform(self.core.give_up("could not reconnect"))
            else:
                self.connect_failed = True  # connect() raised: the app was told
            self.recovery_pending = self.establishing = False
            self.attempt = 0

    # -- rules --------------------------------------------------------------------------

    @precondition(lambda self: self.socket is None and not self.core.link.ended)
    @precondition(lambda self: not self.started or self.establishing)
    @rule()
    def open_socket(self) -> None:
        self.started = self.establishing = True
        self.core.connecting()
        self.core.opened()
        self.socket = "setup"

    @precondition(lambda self: self.socket == "setup")
    @precondition(lambda self: self.core.link.state is LinkState.CONFIGURING)
    @rule()
    def session_updated(self) -> None:
        self.perform(
            self.call.event("session.updated", session={"modalities": ["audio"]}), recorded=True
        )

    @precondition(lambda self: self.socket == "setup")
    @precondition(lambda self: self.core.link.state is LinkState.REPLAYING)
    @rule()
    def go_live(self) -> None:
        if self.core.setup_error is not None:
            self.attempt_failed()
            return
        self.core.replay_events()
        self.perform(self.core.live())
        self.socket = "live"
        self.attempt = 0
        self.establishing = False
        if self.recovery_pending:
            self.recovery_pending = False
            self.perform(self.core.recovered("drop", 0.1))

    @precondition(lambda self: self.socket is not None)
    @rule(code=CODES)
    def socket_dies(self, code: int) -> None:
        was = self.socket
        self.perform(self.core.socket_closed(code))
        if was == "setup":
            self.attempt_failed()
        else:
            self.socket = None

    @precondition(lambda self: self.socket is not None)
    @rule(code=ERRORS)
    def server_error(self, code: str) -> None:
        error = {"type": "server_error", "code": code}
        self.perform(self.call.event("error", error=error), recorded=True)

    @precondition(lambda self: self.socket == "live")
    @rule()
    def caller_speaks(self) -> None:
        for kind in ("speech_started", "speech_stopped"):
            effects = self.call.event(f"input_audio_buffer.{kind}", audio_start_ms=0)
            self.perform(effects, recorded=True)

    @precondition(lambda self: self.socket == "live")
    @rule(n=st.integers(0, 3))
    def agent_answers(self, n: int) -> None:
        before = len(self.call.effects)
        self.call.answer(f"r{self.recoveries_started}_{n}", f"a{n}", text="Hi.")
        self.perform(self.call.effects[before:], recorded=True)

    @rule()
    def playout_finished(self) -> None:
        self.call.speaker.play_out()
        self.perform(self.core.playout_finished())

    @rule()
    def rotate(self) -> None:
        self.perform(self.core.rotate())

    @rule(data=st.binary(min_size=2, max_size=64))
    def caller_audio(self, data: bytes) -> None:
        effects = self.core.caller_audio(data[: len(data) // 2 * 2])
        if not self.core.ready:
            assert not any(isinstance(e, fx.SendAudio) for e in effects)
        self.perform(effects)

    @precondition(lambda self: self.core.link.state is not LinkState.CLOSED)
    @rule()
    def close(self) -> None:
        self.perform(self.core.close())
        self.socket = None
        self.recovery_pending = self.establishing = False

    @rule(seconds=st.sampled_from([0.1, 0.5, 2.0]))
    def time_passes(self, seconds: float) -> None:
        self.call.advance(seconds)
        self.perform(self.core.tick())

    # -- invariants ---------------------------------------------------------------------

    @invariant()
    def ready_means_a_live_socket(self) -> None:
        assert self.core.ready == (self.socket == "live" and not self.core.link.ended)

    @invariant()
    def always_live_setting_up_recovering_or_ended(self) -> None:
        link = self.core.link
        assert (
            self.core.ready
            or link.setting_up
            or self.establishing
            or link.ended
            or not self.started
            or self.connect_failed
        ), link.state

    @invariant()
    def the_pipeline_hears_of_a_give_up_once(self) -> None:
        final = [e for e in self.call.emitted("error") if not e.recoverable]
        assert len(final) <= 1
        if self.core.link.state is LinkState.FAILED:
            assert len(final) == 1


LinkModel.TestCase.settings = settings(
    max_examples=400,
    stateful_step_count=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLinkModel = LinkModel.TestCase
