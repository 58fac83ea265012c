"""Analyser simulators: ASTM E1381/E1394 result messages."""

from __future__ import annotations

import queue
import time
from collections.abc import Sequence

from instruments.protocols import astm
from instruments.simulators.pty import PtySimulator, Stopped


class AstmSimulator(PtySimulator):
    """An analyser sending ASTM E1381/E1394 result messages for the given sample codes.

    Each message: <ENQ> (re-sent every ``enq_retry`` s until ACKed), one frame per record
    (long records split with <ETB>), waiting for <ACK> after each; a <NAK> makes it re-send the
    same frame, six NAKs abort the message with <EOT>; <EOT> ends a message.
    """

    protocol = "astm"
    faults = frozenset({"garbage", "silence", "disconnect", "bad-checksum"})

    def __init__(
        self,
        *,
        samples: Sequence[str] = ("KH-26-000001",),
        results: Sequence[tuple[str, str, str]] = (
            ("GLU", "5.4", "mmol/L"),
            ("781", "1078", "mg/dl"),
        ),
        autosend: bool = True,
        max_text: int = astm.MAX_TEXT,
        reply_timeout: float = 15.0,
        enq_retry: float = 1.0,
        **options: object,
    ) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self.results = list(results)
        self.max_text = max_text
        self.reply_timeout = reply_timeout
        self.enq_retry = enq_retry
        self.naks = 0  # NAKs received from the host
        self.sent = 0  # messages sent and ended with EOT after all frames were ACKed
        self.aborted = 0
        self._queue: queue.Queue[str] = queue.Queue()
        if autosend:
            self.send(*samples)

    def send(self, *samples: str) -> None:
        """Queue one result message per sample code."""
        for sample in samples:
            self._queue.put(sample)

    def frames_for(self, sample: str) -> list[bytes]:
        records = astm.result_message(sample, self.results)
        return astm.build_frames(records, max_text=self.max_text)

    def _serve(self) -> None:
        if self.fault == "silence":
            self._wait(3600 * 24)
        while True:
            try:
                sample = self._queue.get(timeout=0.05)
            except queue.Empty:
                self._wait(0)
                continue
            self._send_message(self.frames_for(sample))

    def _reply(self, timeout: float) -> bytes | None:
        deadline = time.monotonic() + timeout
        while True:
            data = self._read(max(deadline - time.monotonic(), 0))
            if data is None:
                return None
            for byte in data:
                if byte in (0x06, 0x15, 0x04):
                    return bytes([byte])

    def _send_message(self, frames: list[bytes]) -> None:
        if self._take_fault("garbage"):
            self._write(bytes(self._rng.choice(range(0x80, 0x100)) for _ in range(16)))
        while True:  # establishment
            self._write(astm.ENQ)
            reply = self._reply(self.enq_retry)
            if reply == astm.ACK:
                break
            if reply == astm.NAK:
                self._wait(self.enq_retry)
        for index, frame in enumerate(frames):
            attempts = 0
            while True:
                data = frame
                if index == 0 and self._take_fault("disconnect"):
                    self._write(frame[: len(frame) // 2])
                    self._disconnect()
                    raise Stopped
                if self._take_fault("bad-checksum"):
                    wrong = b"%02X" % ((int(frame[-4:-2], 16) + 1) & 0xFF)
                    data = frame[:-4] + wrong + b"\r\n"
                elif index == 1 and self.fault == "garbage" and attempts == 0:
                    data = frame[:3] + b"\x00\xff" + frame[3:]  # garbled in transit
                self._write(data)
                reply = self._reply(self.reply_timeout)
                if reply == astm.ACK:
                    break
                if reply == astm.NAK:
                    self.naks += 1
                    attempts += 1
                    if attempts < 6:
                        continue
                # timeout, receiver interrupt (EOT) or six NAKs: abort
                self._write(astm.EOT)
                self.aborted += 1
                return
        self._write(astm.EOT)
        self.sent += 1
