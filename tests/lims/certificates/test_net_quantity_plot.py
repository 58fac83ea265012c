"""The certificate's net-quantity block draws each prepackage's net quantity as a dot against
Qn, Qn − T and Qn − 2T (lims/charts.py dot_plot), from the numbers recorded with the result;
the conclusion stays the stored statement's."""

from __future__ import annotations

from decimal import Decimal

from lims import charts
from lims.certificates import blocks
from lims.testing import queries, statements
from tests.lims.certificates.conftest import signer  # noqa: F401
from tests.lims.certificates.test_issue17_certificate import _issue, _pdftotext, _scenario
from tests.lims.testing.conftest import lab, make_sample  # noqa: F401


def test_net_quantity_block_plots_every_prepackage(lab, signer, make_sample):  # noqa: F811
    sample = _scenario(lab, make_sample)
    text = " ".join(_pdftotext(_issue(signer, sample)).split())
    assert "Qn = 500" in text and "Qn − T = 485" in text and "Qn − 2T = 470" in text
    assert "Lượng thực của 50 đơn vị mẫu (mL) so với Qn, Qn − T, Qn − 2T" in text
    assert "Đạt — yêu cầu về lượng của hàng đóng gói sẵn" in text  # the stored statement
    net = next(t for t in sample.tests if t.parameter.code == lab.params["net"].code)
    result = queries.results_for_sample(sample)[net.id]
    block = blocks.net_quantity_block(result, "Định lượng", "Net quantity",
                                      statements.stored_statement(result))  # fmt: skip
    assert block is not None and len(block.weighings) == 50
    assert block.marks == (Decimal(500), Decimal(485), Decimal(470))
    figure = charts.dot_plot(block.weighings, [("Qn", block.marks[0], charts.GREEN)], "x")
    assert len([i for i in figure.items if isinstance(i, charts.Circle)]) == 50


def test_dot_plot_stacks_equal_values_and_keeps_every_mark_in_view():
    values = [Decimal("498"), Decimal("498"), Decimal("460")]
    marks = [("Qn", Decimal(500), charts.GREEN), ("Qn − 2T", Decimal(470), charts.RED)]
    figure = charts.dot_plot(values, marks, "x")
    dots = [i for i in figure.items if isinstance(i, charts.Circle)]
    assert dots[0].cx == dots[1].cx and dots[0].cy != dots[1].cy  # stacked
    lines = [i for i in figure.items if isinstance(i, charts.Line) and i.width == 1.5]
    assert all(0 < i.x1 < figure.width for i in lines) and all(
        0 < d.cx < figure.width for d in dots
    )
    assert [i.dash for i in lines] == [False, True]  # Qn solid, the limits below it dashed
