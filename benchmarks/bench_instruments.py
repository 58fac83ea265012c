"""Benchmark of the instruments package (a script, not a test).

1. Decode throughput per codec (lines/s; target >= 100,000), fed in 4 KiB chunks.
2. Read latency over a pseudo-terminal whose simulator is paced at 9600 baud: time of
   ``read_now()`` minus the wire time of the command and the answer (target overhead <= 10 ms).

    python benchmarks/bench_instruments.py [--markdown] [--reads 50]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from instruments import Balance, get_codec  # noqa: E402
from instruments.protocols.astm import ENQ, EOT, build_frames, result_message  # noqa: E402
from instruments.simulators import simulator_for  # noqa: E402

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


def machine() -> str:
    return (
        f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), "
        f"{platform.machine()}, Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def spread(values: list[float]) -> str:
    q = statistics.quantiles(values, n=20) if len(values) >= 20 else [min(values), max(values)]
    return f"p5 {q[0]:.2f} … p95 {q[-1]:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="print a markdown section")
    parser.add_argument("--reads", type=int, default=50)
    args = parser.parse_args()

    decode_rows = []
    for protocol in ["mt-sics", "sartorius-sbi", "and", "ohaus", "astm"]:
        rates = decode_throughput(protocol)
        decode_rows.append((protocol, statistics.median(rates), min(rates), max(rates)))
    read_rows = []
    for protocol in ["mt-sics", "and", "ohaus", "sartorius-sbi"]:
        overheads, wire = read_overhead(protocol, args.reads)
        read_rows.append((protocol, wire, statistics.median(overheads), spread(overheads)))

    if args.markdown:
        print("## Instruments\n")
        print(f"Machine: {machine()}.\n")
        print(
            "Decode throughput (lines or ASTM records per second, 5 runs, 4 KiB chunks; "
            "target ≥ 100,000):\n"
        )
        print("| codec | median lines/s | min | max |\n|---|---:|---:|---:|")
        for name, med, low, high in decode_rows:
            print(f"| {name} | {med:,.0f} | {low:,.0f} | {high:,.0f} |")
        print(
            f"\nRead latency over a pty, simulator paced at 9600 baud, {args.reads} reads "
            "(`read_now()` minus the wire time of command + answer; target ≤ 10 ms):\n"
        )
        print("| protocol | wire time ms | median overhead ms | spread ms |\n|---|---:|---:|---|")
        for name, wire, med, spr in read_rows:
            print(f"| {name} | {wire:.2f} | {med:.2f} | {spr} |")
    else:
        print(machine())
        for name, med, low, high in decode_rows:
            print(
                f"decode {name:<14} median {med:>11,.0f} lines/s  (min {low:,.0f}, max {high:,.0f})"
            )
        for name, wire, med, spr in read_rows:
            print(f"read   {name:<14} wire {wire:6.2f} ms  overhead median {med:6.2f} ms  ({spr})")


if __name__ == "__main__":
    main()
