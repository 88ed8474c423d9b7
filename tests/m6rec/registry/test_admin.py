"""Registry admin: branding, a compact version list (no red ✖ for unpinned rows, metrics in
one column), and a chart with axis titles and a legend."""

import re

import pytest
from django.urls import reverse

from m6rec.common.testing import make_tenant
from m6rec.registry.charts import gate_metric_svg

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "pw"))
    return client


def test_site_header_and_title(staff):
    html = staff.get("/admin/").content.decode()
    assert "M6-Rec administration" in re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert re.search(r'id="site-name".*M6-Rec administration', html, re.S)
    assert "Django administration" not in html


def test_version_list_is_compact_and_marks_only_pinned_rows(staff, tenant, make_version):
    from m6rec.registry import services

    v1 = make_version(tenant, 0.2, status="active")
    v2 = make_version(tenant, 0.3)
    services.version_pin(version=v1, actor="test")
    url = reverse("admin:registry_modelversion_changelist") + f"?tenant__id__exact={tenant.pk}"
    html = staff.get(url).content.decode()
    headers = re.findall(r'<th scope="col" class="[^"]*column-(\w+)', html)
    assert headers == [
        "version",
        "tenant",
        "status_badge",
        "pin_mark",
        "validation_metrics",
        "served_model",
        "interactions",
        "created",
        "run_link",
    ]
    assert "icon-no.svg" not in html and "✖" not in html  # unpinned: blank, not an error mark
    pins = re.findall(r'<td class="field-pin_mark">(.*?)</td>', html, re.S)
    assert len(pins) == 2 and pins.count("-") == 1 and "📌" in "".join(pins)  # "-": neutral
    assert "<strong>0.3000</strong><br>" in html and "P 0.1500 · R —" in html
    assert "<strong>0.2000</strong><br>" in html and "P 0.1000 · R —" in html
    assert v2.number == 2


def test_chart_has_axis_titles_and_a_legend():
    svg = str(gate_metric_svg({
        "acme": [(1, 0.2, "retired"), (2, 0.3, "active"), (3, 0.25, "candidate")],
        "globex": [(1, 0.1, "failed"), (2, None, "candidate")],
    }))  # fmt: skip
    assert ">model version</text>" in svg and ">validation nDCG@10</text>" in svg
    assert "rotate(-90" in svg  # the y-axis title runs along the axis
    legend = svg[svg.index('class="m6rec-legend"') :]
    for label in ("acme", "globex", "active", "candidate", "retired", "failed"):
        assert f">{label}</text>" in legend
    assert svg.count("<polyline") == 1  # globex has one version with a metric
    assert ">v1</text>" in svg and ">v3</text>" in svg


def test_chart_escapes_labels_and_handles_a_single_version():
    svg = str(gate_metric_svg({"<b>": [(4, 0.5, "active")]}))
    assert "<b>" not in svg and "&lt;b&gt;" in svg and ">v4</text>" in svg
    assert "No versions" in str(gate_metric_svg({"x": [(1, None, "failed")]}))


def test_many_versions_get_at_most_twelve_x_ticks():
    svg = str(gate_metric_svg({"t": [(n, n / 100, "retired") for n in range(1, 41)]}))
    ticks = re.findall(r">v(\d+)</text>", svg)
    assert len(ticks) <= 13 and ticks[0] == "1" and ticks[-1] == "40"


def test_changelist_chart_names_each_tenant(staff, make_version):
    for slug in ("shop", "news"):
        make_version(make_tenant(slug), 0.3, status="active")
    html = staff.get(reverse("admin:registry_modelversion_changelist")).content.decode()
    assert "m6rec-legend" in html and ">shop</text>" in html and ">news</text>" in html
