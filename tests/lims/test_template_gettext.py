"""Templates translate through ``lims.i18n.template_gettext`` (Flask-Babel's translations looked
up once per request and locale): same texts as Flask-Babel's own callables, and a document made
in the other language (``force_locale``) is never served the page's language, nor the page the
document's."""

from __future__ import annotations

from flask import render_template_string
from flask_babel import force_locale
from markupsafe import Markup

from lims.i18n import template_gettext

PAGE = "{{ _('Verify results') }}|{{ _('%(n)d result(s) verified.', n=3) }}|{{ _('50%%') }}"


def test_templates_use_the_fast_gettext(app):
    assert app.jinja_env.globals["_"] is template_gettext
    assert app.jinja_env.globals["gettext"] is template_gettext


def test_a_forced_locale_is_followed_and_restored_within_one_request(app):
    with app.test_request_context("/"):
        assert render_template_string(PAGE) == "Xác nhận kết quả|Đã xác nhận 3 kết quả.|50%"
        with force_locale("en"):
            assert render_template_string(PAGE) == "Verify results|3 result(s) verified.|50%"
        assert render_template_string(PAGE).startswith("Xác nhận kết quả|")


def test_translated_text_is_markup_and_variables_are_escaped(app):
    with app.test_request_context("/"):
        out = render_template_string("{{ _('%(n)s waiting', n=name) }}", name="<b>")
        assert out == "&lt;b&gt; đang chờ"
        assert isinstance(render_template_string("{{ _('Pages') }}"), str)
        assert Markup("Trang") == render_template_string("{{ _('Pages') }}")


def test_plural_forms_take_the_count(app):
    with app.test_request_context("/"):
        with force_locale("en"):
            out = render_template_string("{{ ngettext('%(num)d day', '%(num)d days', 2) }}")
    assert out == "2 days"
