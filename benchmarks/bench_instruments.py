"""Benchmark of the instruments package: writes the ``bench_instruments`` section of
``docs/performance.md``.

1. Decode throughput per codec (lines/s; target >= 100,000), fed in 4 KiB chunks.
2. Read latency over a pseudo-terminal whose simulator is paced at 9600 baud: time of
   ``read_now()`` minus the wire time of the command and the answer (target overhead <= 10 ms).

    python -m benchmarks instruments -- [--reads 50] [--no-write]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import fmt, measured_line, summary, write_section  # noqa: E402
from instruments import Balance, get_codec  # noqa: E402
from instruments.protocols.astm import ENQ, EOT, build_frames, result_message  # noqa: E402
from instruments.simulators import simulator_for  # noqa: E402

SOURCE = "benchmarks/bench_instruments.py"

LINES = {
    "mt-sics": [b"S S     100.00 g\r\n", b"S D     129.07 g\r\n", b"S I\r\n"],
    "sartorius-sbi": [b"N     +   123.56 g  \r\n", b"N     +    0.031    \r\n"],
    "and": [b"ST,+001234.5  g\r\n", b"US,-00005678 PC\r\n", b"OL,+999999.9  g\r\n"],
    "ohaus": [b"     192.21 g\r\n", b"       0.01 g ?\r\n"],
}


def astm_stream(n_records: int) -> tuple[bytes, int]:
    results = [(f"T{i}", f"{i}.5", "mg/dl") for i in range(20)]
    message = ENQ + b"".join(build_frames(result_message("KH-26-000001", results))) + EOT
    per = len(result_message("x", results))
    copies = n_records // per
    return message * copies, copies * per


def decode_throughput(protocol: str, n_lines: int = 200_000, repeats: int = 5) -> list[float]:
    if protocol == "astm":
        data, n_lines = astm_stream(n_lines)
    else:
        sample = LINES[protocol]
        data = b"".join(sample[i % len(sample)] for i in range(n_lines))
    rates = []
    for _ in range(repeats):
        codec = get_codec(protocol)
        count = 0
        start = time.perf_counter()
        for i in range(0, len(data), 4096):
            count += len(codec.feed(data[i : i + 4096]))
        elapsed = time.perf_counter() - start
        if protocol == "astm":
            codec.take_replies()
        assert count == n_lines, (protocol, count, n_lines)
        rates.append(n_lines / elapsed)
    return rates


def read_overhead(protocol: str, reads: int, baud: int = 9600) -> tuple[list[float], float]:
    sim = simulator_for(protocol, value="100.00", pace_baud=baud).start()
    try:
        with Balance.open(sim.port, protocol, baudrate=baud, timeout=2) as balance:
            command = balance.codec.encode(balance.codec.commands["now"].wire)
            reply = balance.read_now().raw
            wire = (len(command) + len(reply)) * 10 / baud  # 10 bits per char (8N1/7E1)
            overheads = []
            for _ in range(reads):
                start = time.perf_counter()
                balance.read_now()
                overheads.append((time.perf_counter() - start - wire) * 1000)
        return overheads, wire * 1000
    finally:
        sim.stop()


def section(decode_rows: list[tuple], read_rows: list[tuple], reads: int) -> str:
    lines = [
        measured_line(f"python -m benchmarks instruments -- --reads {reads}", SOURCE),
        "",
        "Decode throughput (lines, or ASTM records, per second over 5 runs, fed in 4 KiB "
        "chunks; target ≥ 100,000):",
        "",
        "| codec | median lines/s | min–max |",
        "|---|---:|---:|",
    ]
    for name, s in decode_rows:
        lines.append(f"| {name} | {s['p50']:,.0f} | {s['min']:,.0f}–{s['max']:,.0f} |")
    lines += [
        "",
        f"Read latency over a pseudo-terminal, simulator paced at 9600 baud, {reads} reads: "
        "`read_now()` minus the wire time of the command and the answer (target overhead "
        "≤ 10 ms), in ms:",
        "",
        "| protocol | wire time ms | overhead |",
        "|---|---:|---|",
    ]
    for name, wire, s in read_rows:
        lines.append(f"| {name} | {wire:.2f} | {fmt(s, 2)} |")
    slow = [name for name, s in decode_rows if s["p50"] < 100_000]
    late = [name for name, _wire, s in read_rows if s["p95"] > 10]
    lines += [
        "",
        "Against the targets (medians; p95 for the read overhead): decode ≥ 100,000/s "
        + (f"**not met** by {', '.join(slow)}" if slow else "met by every codec")
        + "; read overhead ≤ 10 ms "
        + (f"**not met** by {', '.join(late)}" if late else "met by every protocol")
        + ". Pure-Python work, so a busy machine lowers these figures directly.",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=50)
    parser.add_argument("--no-write", action="store_true", help="do not update the docs")
    args = parser.parse_args()

    decode_rows = []
    for protocol in ["mt-sics", "sartorius-sbi", "and", "ohaus", "astm"]:
        rates = summary(decode_throughput(protocol))
        decode_rows.append((protocol, rates))
        print(f"decode {protocol:<14} median {rates['p50']:>11,.0f} lines/s", flush=True)
    read_rows = []
    for protocol in ["mt-sics", "and", "ohaus", "sartorius-sbi"]:
        overheads, wire = read_overhead(protocol, args.reads)
        read_rows.append((protocol, wire, summary(overheads)))
        print(f"read   {protocol:<14} overhead {fmt(summary(overheads), 2)} ms", flush=True)
    body = section(decode_rows, read_rows, args.reads)
    print(body)
    if not args.no_write:
        write_section("instruments", "## Instruments", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
