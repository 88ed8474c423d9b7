"""Django admin end to end in headless Chromium (Debian ``chromium`` + ``chromium-driver``,
Python ``selenium``): log in, open a tenant's versions, roll back, see the change."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from m6rec.common.testing import make_tenant

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CHROMIUM = os.environ.get("M6REC_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("M6REC_CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,1000",
)


def _unavailable(message: str) -> None:
    if os.environ.get("M6REC_REQUIRE_SERVICES") == "1":
        pytest.fail(message + " (M6REC_REQUIRE_SERVICES=1 forbids skipping)", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("selenium is not installed (pip install 'selenium>=4.20,<5')")
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.isfile(path) or shutil.which(path)):
            _unavailable(f"{path} not found (apt-get install -y chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def two_versions(settings, tmp_path):
    """Tenant "shop" with v1 (retired, the previous one) and v2 (active)."""
    from m6rec.registry import services, storage

    settings.MEDIA_ROOT = str(tmp_path / "media")
    tenant = make_tenant("shop", domain="content")
    versions = []
    for ndcg in (0.21, 0.34):
        number = services.version_next_number(tenant=tenant)
        staging = storage.bundle_staging_dir(tenant_slug=tenant.slug)
        (staging / "manifest.json").write_text(json.dumps({"n": number}))
        uri = storage.bundle_publish(staging_dir=staging, tenant_slug=tenant.slug, number=number)
        version = services.version_create(
            tenant=tenant,
            number=number,
            bundle_uri=uri,
            bundle_sha256=storage.manifest_sha256(storage.bundle_local_path(uri=uri)),
            metrics={"validation": {"ndcg@10": ndcg, "model": "ease"}},
        )
        services.version_apply_gate(version=version)
        versions.append(version)
    return tenant, versions


def test_admin_rollback_in_browser(browser, live_server, django_user_model, two_versions):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from m6rec.registry.models import AuditLog, ModelVersion

    tenant, (v1, v2) = two_versions
    django_user_model.objects.create_superuser("root", "root@example.com", "s3cret-pass")

    # log in
    browser.get(f"{live_server.url}/admin/login/?next=/admin/")
    browser.find_element(By.NAME, "username").send_keys("root")
    browser.find_element(By.NAME, "password").send_keys("s3cret-pass")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit], button[type=submit]").click()
    # the click may return before the POST's response has replaced the login page
    WebDriverWait(browser, 30).until(lambda d: "Site administration" in d.page_source)

    # open the tenant's versions: v2 active, with the gate-metric chart
    browser.get(f"{live_server.url}/admin/registry/modelversion/?tenant__id__exact={tenant.pk}")
    page = browser.page_source
    assert "m6rec-gate-chart" in page and "0.3400" in page and "0.2100" in page
    assert _status_of(browser, v2.pk) == "active" and _status_of(browser, v1.pk) == "retired"

    # roll back through the admin action
    browser.find_element(By.CSS_SELECTOR, f"input.action-select[value='{v2.pk}']").click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("rollback_tenants")
    browser.find_element(By.NAME, "index").click()

    # see the change
    WebDriverWait(browser, 15).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "ul.messagelist li")
    )
    messages = [
        e.text.lower() for e in browser.find_elements(By.CSS_SELECTOR, "ul.messagelist li")
    ]  # the admin stylesheet capitalises the first letter
    assert "shop: rolled back, v1 is now active." in messages, messages
    assert _status_of(browser, v1.pk) == "active" and _status_of(browser, v2.pk) == "retired"
    assert ModelVersion.objects.get(pk=v1.pk).status == "active"
    log = AuditLog.objects.filter(tenant=tenant).order_by("-id").first()
    assert (log.action, log.actor, log.to_version_id) == ("rollback", "user:root", v1.pk)

    # and in the read-only audit log
    browser.get(f"{live_server.url}/admin/registry/auditlog/")
    assert "user:root" in browser.page_source and "Rollback" in browser.page_source


def _status_of(browser, pk: int) -> str:
    from selenium.webdriver.common.by import By

    checkbox = browser.find_element(By.CSS_SELECTOR, f"input.action-select[value='{pk}']")
    row = checkbox.find_element(By.XPATH, "./ancestor::tr")
    return row.find_element(By.CSS_SELECTOR, "td.field-status_badge").text.strip()


def _login(browser, live_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{live_server.url}/admin/login/?next=/admin/")
    browser.find_element(By.NAME, "username").send_keys("root")
    browser.find_element(By.NAME, "password").send_keys("s3cret-pass")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit], button[type=submit]").click()
    WebDriverWait(browser, 30).until(lambda d: "Site administration" in d.page_source)


def test_version_list_fits_a_1400px_window(browser, live_server, django_user_model, two_versions):
    """Every column visible at 1,400 px with the filter sidebar: no sideways scrolling."""
    from m6rec.registry.models import ModelVersion

    tenant, (v1, v2) = two_versions
    long_metrics = {"validation": {"ndcg@10": 0.42431, "precision@10": 0.21504,
                                   "recall@10": 0.18233, "model": "fusion_int8"}}  # fmt: skip
    ModelVersion.objects.filter(tenant=tenant).update(
        metrics=long_metrics, data_counts={"interactions": 25_000_095}
    )
    django_user_model.objects.create_superuser("root", "root@example.com", "s3cret-pass")
    _login(browser, live_server)
    assert "M6-Rec administration" in browser.title
    browser.get(f"{live_server.url}/admin/registry/modelversion/")
    sizes = browser.execute_script(
        "const r = document.querySelector('#changelist .results');"
        "const d = document.documentElement;"
        "return [r.scrollWidth, r.clientWidth, d.scrollWidth, d.clientWidth];"
    )
    results_scroll, results_width, page_scroll, page_width = sizes
    assert results_scroll <= results_width and page_scroll <= page_width, sizes
