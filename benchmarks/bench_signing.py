"""Signing certificates (PAdES): what signing adds to issuing one certificate, side by side with
the unsigned render in the same run (target: at most 50 ms more, median), and a batch of N
signed certificates (default 1,000) on SQLite and, when ``LIMS_BENCH_DATABASE_URL`` is set, on
PostgreSQL (its public schema is dropped and rebuilt).

    python -m benchmarks signing -- [--count 1000] [--repeat 40] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` and ``lims`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import fmt, machine, measured_line, summary, write_section

TARGET_MS = 50.0
SIGNER = ("signer@bench.vn", "Trần Văn Minh")  # benchmarks/bench_certificates.py's signatory


def _keys(folder: Path) -> tuple[Path, Path]:
    from lims.pdf.democa import ensure_demo_signing

    return ensure_demo_signing(folder, [SIGNER])


def bench_pair(folder: Path, repeat: int) -> dict[str, Any]:
    """Unsigned render and render + sign of the same 20-result certificate, interleaved in one
    loop (so both see the same machine load), plus the key's first opening."""
    from reportlab.lib.units import mm

    from benchmarks.bench_certificates import content
    from lims.certificates.pdf import render_certificate
    from lims.pdf.sigblock import SignatureBlock, signature_lines
    from lims.pdf.signing import sign_pdf
    from lims.pdf.signkeys import forget_keys, load_key, read_key_table

    table, _root = _keys(folder)
    forget_keys()
    started = time.perf_counter()
    key = load_key(read_key_table(table)[SIGNER[0]])
    first_load_ms = (time.perf_counter() - started) * 1000
    c = content(20)
    now = datetime.now(UTC)

    def signed() -> bytes:
        block = SignatureBlock(
            signature_lines(signer=SIGNER[1], function="Trưởng phòng Thử nghiệm",
                            organisation="Trung tâm Kỹ thuật TĐC Khánh Hòa",
                            signed_at="29/11/2026 09:30"),
            69 * mm,
        )  # fmt: skip
        data = render_certificate(c, signature=block)
        return sign_pdf(data, key=key, signed_at=now, placement=block.placement).data

    for _ in range(3):
        render_certificate(c)
        signed()
    plain_ms, signed_ms, extra_ms = [], [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        render_certificate(c)
        t1 = time.perf_counter()
        signed()
        t2 = time.perf_counter()
        plain_ms.append((t1 - t0) * 1000)
        signed_ms.append((t2 - t1) * 1000)
        extra_ms.append(signed_ms[-1] - plain_ms[-1])
    return {
        "plain": summary(plain_ms),
        "signed": summary(signed_ms),
        "extra": summary(extra_ms),
        "first_load_ms": first_load_ms,
        "size_plain": len(render_certificate(c)) / 1024,
        "size_signed": len(signed()) / 1024,
    }


def bench_batch(folder: Path, url: str, count: int) -> dict[str, Any]:
    from benchmarks.bench_certificates import bench_issue
    from lims.pdf.signkeys import forget_keys

    table, root = _keys(folder)
    forget_keys()  # the batch opens the key itself, on its first certificate
    return bench_issue(
        url,
        count,
        {"SIGNING_KEYS": str(table), "SIGNING_REQUIRED": True, "SIGNING_TRUST_ROOTS": str(root)},
    )


def report(pair: dict[str, Any], batch: dict[str, dict[str, Any]], args: Any) -> str:
    extra = pair["extra"]
    met = "met" if extra["p50"] <= TARGET_MS else "**not met**"
    lines = [
        measured_line(
            f"python -m benchmarks signing -- --count {args.count} --repeat {args.repeat}",
            "benchmarks/bench_signing.py",
        ),
        "",
        f"Load average {args.load[0]:.1f} before, {args.load[1]:.1f} after the render runs "
        "(2 = both CPUs busy).",
        "",
        "**Render vs render + sign** — the same certificate (one sample, 20 results, "
        f"Vietnamese), {int(extra['n'])} rounds, each round rendering it unsigned and then "
        "rendering it with the visible signature block and signing it (PAdES B-B, RSA-2048, "
        "SHA-256, key from a PKCS#12 file opened once per process), in ms:",
        "",
        "| | p50 · p95 (min–max) ms | size |",
        "|---|---|---|",
        f"| unsigned render | {fmt(pair['plain'])} | {pair['size_plain']:.0f} KiB |",
        f"| render + sign | {fmt(pair['signed'])} | {pair['size_signed']:.0f} KiB |",
        f"| added by signing (per round) | {fmt(extra)} | |",
        "",
        f"Target: signing adds ≤ {TARGET_MS:.0f} ms (median) — {met} "
        f"(median {extra['p50']:.1f} ms). Opening the key (decrypting the PKCS#12 file, the "
        f"first use of pyHanko) took {pair['first_load_ms']:.0f} ms once; it is kept for the "
        "process. A time stamp (PAdES B-T, `LIMS_TSA_URL`) adds one HTTP round trip to the "
        "time-stamp server on top; a PKCS#11 token adds its own signing time (a USB token "
        "typically 100–500 ms for RSA-2048).",
        "",
        "What made it fit: pyHanko's `SimpleSigner` parses and validates the RSA private key "
        "on every signature (about 40 ms here); `lims.pdf.signkeys` keeps the parsed key "
        "(`CachedKeySigner`), and `sign_pdf` reserves the signature's space from the "
        "certificate chain's size instead of letting pyHanko sign a dummy first.",
        "",
        f"**Signed batch** — `services.issue_certificate` for {args.count:,} verified samples "
        "of 20 results each with signing required (as bench_certificates' batch, plus the "
        "signature), commit every 100; time per certificate in ms:",
        "",
        "| database | total | certificates/s | per certificate p50 · p95 (min–max) | size |",
        "|---|---|---|---|---|",
    ]
    for backend, r in batch.items():
        lines.append(
            f"| {backend} | {r['seconds']:.1f} s | {r['per_second']:.1f} | {fmt(r['each'])} | "
            f"{r['mean_kib']:.0f} KiB |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="certificates in the batch")
    parser.add_argument("--repeat", type=int, default=40, help="rounds of the side-by-side")
    parser.add_argument("--no-write", action="store_true", help="do not update the docs")
    args = parser.parse_args(sys.argv[1:])
    print(machine(), flush=True)
    with tempfile.TemporaryDirectory(prefix="lims-bench-sign-") as tmp:
        folder = Path(tmp)
        load_before = os.getloadavg()[0]
        pair = bench_pair(folder / "keys", args.repeat)
        args.load = (load_before, os.getloadavg()[0])
        print(f"  unsigned render {fmt(pair['plain'])} ms; render + sign {fmt(pair['signed'])} "
              f"ms; added {fmt(pair['extra'])} ms", flush=True)  # fmt: skip
        backends = {"SQLite": f"sqlite:///{folder / 'bench.sqlite3'}"}
        if os.environ.get("LIMS_BENCH_DATABASE_URL"):
            backends["PostgreSQL"] = os.environ["LIMS_BENCH_DATABASE_URL"]
        batch: dict[str, dict[str, Any]] = {}
        for backend, url in backends.items():
            batch[backend] = r = bench_batch(folder / "keys", url, args.count)
            print(f"  {backend}: issued and signed {r['count']:,} in {r['seconds']:.1f} s "
                  f"({r['per_second']:.1f}/s; each {fmt(r['each'])} ms)", flush=True)  # fmt: skip
    section = report(pair, batch, args)
    print(section)
    if not args.no_write:
        write_section("signing", "## Signing certificates (PAdES)", section)
        print("wrote docs/performance.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
