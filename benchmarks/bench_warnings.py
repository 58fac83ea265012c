"""Bulletin render time for 10, 50 and 200 warnings (plain data, no database).

    python -m benchmarks warnings -- --sizes 10,50,200 --repeat 5

Prints median and min–max milliseconds and the page count per size; the target is 50
warnings ≤ 500 ms (issue 8).
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

from lims.pdf import Letterhead
from lims.warnings import pdf

LETTERHEAD = Letterhead(lab_name="Hội Bảo vệ quyền lợi người tiêu dùng tỉnh Khánh Hòa",
                        contact="Đường dây nóng: 0258 3 888 999")  # fmt: skip


def warning(i: int) -> pdf.WarningDoc:
    return pdf.WarningDoc(
        number=f"CB-{i:05d}",
        title=f"Nước mắm cá cơm lô L{i} có histamin vượt giới hạn",
        product_name="Nước mắm cá cơm Khánh Hòa", brand="Hòn Khói", batch=f"L{i}",
        production_date="02/03/2026", expiry_date="02/03/2028", seller_name="Sạp cô Lan",
        seller_address="Chợ Đầm, Nha Trang", manufacturer="Cơ sở chế biến Thành Đạt",
        failed=[pdf.FailedItem("Histamin", "520", "mg/kg", "≤ 400", "EU Reg 2073/2005",
                               "Chấp nhận đơn giản", "Không đạt")],
        hazard_html="<p>Histamin cao có thể gây <b>ngộ độc</b> dị ứng.</p>",
        recommendation_html="<ul><li>Ngừng sử dụng sản phẩm</li><li>Trả lại nơi mua</li></ul>",
        certificates=[pdf.CertificateRef(f"KQ-2026-{i:05d}", "https://lims.example.vn/verify/X")],
        published_on="15/03/2026",
    )  # fmt: skip


def bulletin(n: int) -> pdf.BulletinDoc:
    return pdf.BulletinDoc(
        number=1, year=2026, period="01/03/2026 – 31/03/2026", published_on="01/04/2026",
        association_name=LETTERHEAD.lab_name, hotline="0258 3 888 999",
        warnings=[warning(i) for i in range(1, n + 1)],
        corrections=[pdf.Correction("CB-00999", "Cảnh báo nhầm lô", "20/03/2026", "Thu hồi")],
    )  # fmt: skip


def measure(n: int, repeat: int) -> tuple[list[float], int]:
    import pypdf

    doc = bulletin(n)
    pdf.render_bulletin(bulletin(1), letterhead=LETTERHEAD)  # fonts registered, code warm
    times, data = [], b""
    for _ in range(repeat):
        start = time.perf_counter()
        data = pdf.render_bulletin(doc, letterhead=LETTERHEAD)
        times.append((time.perf_counter() - start) * 1000)
    return times, len(pypdf.PdfReader(io.BytesIO(data)).pages)


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench_warnings")
    parser.add_argument("--sizes", default="10,50,200")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print("| warnings | pages | median ms | min–max ms |")
    print("|---|---|---|---|")
    for n in (int(x) for x in args.sizes.split(",")):
        times, pages = measure(n, args.repeat)
        print(f"| {n} | {pages} | {statistics.median(times):.0f} | "
              f"{min(times):.0f}–{max(times):.0f} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
