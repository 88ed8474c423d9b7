"""``import_interactions`` (MovieLens formats, generic CSV) and ``demo --no-serve``."""

import io
import re
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from m6rec.catalog import selectors
from m6rec.catalog.models import EndUser, Interaction, Item
from m6rec.common.testing import api_client
from m6rec.tenants.models import Tenant

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).resolve().parents[3] / "platform/m6rec/catalog/sample_data/ml-latest-small"


def run(*args) -> str:
    out = io.StringIO()
    call_command("import_interactions", *map(str, args), "--no-progress", stdout=out)
    return out.getvalue()


@pytest.fixture
def ml100k(tmp_path):
    (tmp_path / "u.data").write_text(
        "1\t10\t5\t881250949\n1\t20\t3\t881250950\n2\t10\t4\t891717742\n"
    )
    flags = "|".join(["0"] * 19)
    crime = "|".join("1" if i in (1, 6) else "0" for i in range(19))  # Action, Crime
    (tmp_path / "u.item").write_bytes(
        (f"10|Café Society (1995)|01-Jan-1995||http://x|{crime}\n"
         f"20|Untitled|01-Jan-1997||http://y|{flags}\n").encode("latin-1")
    )  # fmt: skip
    return tmp_path


def test_import_u_data_with_u_item_metadata_and_rerun_is_idempotent(tenant, ml100k):
    output = run(ml100k / "u.data", "--tenant", "acme")
    assert "3 created" in output and "items: 2 created" in output
    item = Item.objects.get(tenant=tenant, external_id="10")
    assert item.properties == {"title": "Café Society (1995)", "genres": ["Action", "Crime"],
                               "year": 1995}  # fmt: skip
    assert item.categories == ["Action", "Crime"]
    assert Item.objects.get(external_id="20").properties["year"] == 1997
    i = Interaction.objects.get(user__external_id="1", item__external_id="10")
    assert (i.value, i.timestamp.timestamp(), i.event_id) == (5.0, 881250949, "1:10:881250949")
    assert i.type == "rating"  # content declares "rating": MovieLens ratings import as such
    before = list(Interaction.objects.order_by("id").values_list("id", "value"))
    again = run(ml100k / "u.data", "--tenant", "acme")
    assert "0 created, 3 duplicate" in again
    assert list(Interaction.objects.order_by("id").values_list("id", "value")) == before


def test_import_ratings_dat_with_movies_dat(tenant, tmp_path):
    (tmp_path / "ratings.dat").write_text("7::100::4::978300760\n8::100::2::978300761\n")
    (tmp_path / "movies.dat").write_text("100::Heat (1995)::Action|Crime|Thriller\n")
    run(tmp_path / "ratings.dat", "--tenant", "acme", "--type", "view")
    assert Item.objects.get(external_id="100").categories == ["Action", "Crime", "Thriller"]
    assert set(Interaction.objects.values_list("type", flat=True)) == {"view"}
    assert EndUser.objects.filter(tenant=tenant).count() == 2


def test_import_generic_csv_with_type_column_and_chunks(tenant, tmp_path):
    lines = ["user_id,item_id,value,timestamp,type"]
    lines += [f"u{n % 7},i{n % 5},{n % 3 + 1},{1_600_000_000 + n},{('view', 'like')[n % 2]}"
              for n in range(95)]  # fmt: skip
    path = tmp_path / "events.csv"
    path.write_text("\n".join(lines) + "\n")
    output = run(path, "--tenant", "acme", "--chunk-size", "10")
    assert "95 read, 95 created" in output
    assert Interaction.objects.filter(type="like").count() == 47
    arrays = selectors.interaction_arrays(tenant=tenant)
    assert len(arrays["id"]) == 95
    assert np.all(np.diff(arrays["timestamp"]) > 0)  # streamed in time order
    assert arrays["user_id"][0] == "u0" and arrays["item_id"][1] == "i1"
    assert arrays["value"].dtype == np.float32


def test_import_generic_csv_without_header_or_type(tenant, tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("a,b,1.5,2024-01-01T00:00:00Z\n")
    run(path, "--tenant", "acme")
    assert Interaction.objects.get().value == 1.5


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("u,i,1\n", "expected user_id,item_id,value,timestamp"),
        ("u,i,x,1600000000\n", "line 1"),
        ("u,i,1,not-a-time\n", "ISO 8601"),
        ("u,,1,1600000000\n", "empty"),
        ("u,i,1,1600000000,purchase\n", "not declared"),
    ],
)
def test_bad_lines_name_the_line(tenant, tmp_path, content, needle):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(CommandError, match=needle):
        run(path, "--tenant", "acme")
    assert not Interaction.objects.exists()


def test_unknown_tenant_and_type_are_refused(tenant, ml100k):
    with pytest.raises(CommandError, match="No tenant"):
        run(ml100k / "u.data", "--tenant", "nope")
    with pytest.raises(CommandError, match="not declared"):
        run(ml100k / "u.data", "--tenant", "acme", "--type", "purchase")


def test_import_bundled_ml_latest_small_subset(tenant):
    output = run(SAMPLE / "ratings.csv", "--tenant", "acme", "--limit", "3000", "--no-items")
    assert "3000 read, 3000 created" in output
    first = Interaction.objects.get(event_id="1:1:964982703")
    assert (first.user.external_id, first.item.external_id, first.value) == ("1", "1", 4.0)
    assert EndUser.objects.filter(tenant=tenant).count() == len(
        {line.split(",")[0] for line in (SAMPLE / "ratings.csv").read_text().splitlines()[1:3001]}
    )


def test_bundled_data_ships_with_its_readme():
    assert "MovieLens" in (SAMPLE / "README.txt").read_text()
    assert (SAMPLE / "movies.csv").exists() and (SAMPLE / "ratings.csv").exists()


def test_demo_no_serve_prints_a_login_key_and_working_curl(client):
    out = io.StringIO()
    args = ["--no-serve", "--no-progress", "--limit", "5000", "--time-budget", "15"]
    call_command("demo", *args, stdout=out)
    text = out.getvalue()
    password = re.search(r"login: admin\s+password: (\S+)", text).group(1)
    assert client.login(username="admin", password=password)
    token = re.search(r"API key \(tenant 'demo', all scopes\): (\S+)", text).group(1)
    tenant = Tenant.objects.get(slug="demo")
    assert tenant.domain == "content"
    assert Item.objects.filter(tenant=tenant).count() == 9742
    assert Interaction.objects.filter(tenant=tenant).count() == 5000
    curls = [line.strip() for line in text.splitlines() if line.strip().startswith("curl")]
    assert len(curls) >= 4
    api = api_client(token)
    assert api.get("/api/v1/items/1").json()["properties"]["title"] == "Toy Story (1995)"
    assert api.get("/api/v1/items?limit=3").status_code == 200
    post = next(c for c in curls if "-X POST" in c)
    body = re.search(r"-d '(.+?)' ", post).group(1)
    response = api.generic("POST", "/api/v1/interactions", body, content_type="application/json")
    assert response.status_code == 200 and response.json()["received"] == 1
    # the demo trained a model, and the printed recommendation request is served by it
    recs = next(c for c in curls if "/recommendations" in c)
    path = re.search(r"'http://[^/]+(/api/v1/[^']+)'", recs).group(1)
    served = api.get(path).json()
    assert (served["strategy"], served["model_version"]) == ("model", 1), served
    assert len(served["items"]) == 10
    # a second run reuses the tenant, skips the import and prints a fresh key
    out2 = io.StringIO()
    call_command("demo", "--no-serve", "--no-progress", stdout=out2)
    assert "import skipped" in out2.getvalue()
    assert Interaction.objects.filter(tenant=tenant).count() == 5001
    assert "already has an active model" in out2.getvalue()


@pytest.mark.parametrize(
    ("name", "text", "rows"),
    [
        ("movies.csv", "movieId,title,genres\n1,A (1995),Drama\n2,B (1996),Comedy\n", 2),
        ("ratings.csv", "userId,movieId,rating,timestamp\n1,1,4,9\n1,2,5,9", 2),  # no final \n
        ("events.csv", "user_id,item_id,value,timestamp\nu,i,1,9\n", 1),
        ("plain.csv", "u,i,1,9\nv,i,1,9\n", 2),
        ("u.data", "1\t10\t5\t881250949\n", 1),
        ("empty.csv", "", 0),
    ],
)
def test_count_rows_leaves_out_the_header(tmp_path, name, text, rows):
    from m6rec.catalog.importers import count_rows

    path = tmp_path / name
    path.write_text(text)
    assert count_rows(path) == rows


def test_progress_bars_end_at_the_number_of_rows(tenant, tmp_path, capsys):
    (tmp_path / "ratings.csv").write_text(
        "userId,movieId,rating,timestamp\n1,10,4.0,964982703\n2,10,3.5,964982704\n"
        "1,20,5.0,964982705"
    )
    (tmp_path / "movies.csv").write_text(
        'movieId,title,genres\n10,Heat (1995),Action|Crime\n20,"Quiz, The (1994)",Drama\n'
    )
    call_command("import_interactions", str(tmp_path / "ratings.csv"), "--tenant", "acme",
                 stdout=io.StringIO())  # fmt: skip
    err = capsys.readouterr().err
    assert re.search(r"items: 100%.*\| 2/2 ", err), err
    assert re.search(r"interactions: 100%.*\| 3/3 ", err), err
    assert "2/3" not in err.split("interactions")[0] and "/4" not in err
    assert Interaction.objects.filter(tenant=tenant, type="rating").count() == 3
