"""Streaming readers for interaction files (MovieLens and a generic CSV) and item metadata.

Readers yield cleaned row dicts (the shape :func:`m6rec.catalog.services.interactions_ingest`
takes) one at a time; :func:`import_interactions` groups them into chunks, so a 10-million-row
file never sits in memory. Event ids are deterministic (``user:item:timestamp``) so a re-run
of the same file changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from m6rec.common import validation as v
from m6rec.common.validation import RowError

CHUNK_ROWS = 10_000
ML100K_GENRES = (
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
)
_YEAR = re.compile(r"\((\d{4})\)\s*$")


class ImportFileError(ValueError):
    """A line of the input file is unusable; the message names the file and line."""


def count_lines(path: Path) -> int:
    """Lines in the file (fast, binary): newlines, plus a last line without one."""
    count, last = 0, b"\n"
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")


#: First fields that mark a header line (MovieLens CSVs, the generic CSV).
HEADER_FIELDS = {"userid", "user_id", "movieid", "itemid", "item_id"}


def has_header(path: Path) -> bool:
    """Whether the file's first line is a header (``userId,…``, ``movieId,…``, ``user_id,…``)."""
    with path.open("rb") as fh:
        first = fh.readline(4096).decode("utf-8", "replace").lstrip("\ufeff")
    field = re.split(r"[,\t|:]", first.strip(), maxsplit=1)[0].strip().strip('"').lower()
    return field in HEADER_FIELDS


def count_rows(path: Path) -> int:
    """Data rows in the file, for progress bars: its lines less a header line, if any."""
    return max(0, count_lines(path) - has_header(path))


def event_id_for(*parts: str) -> str:
    event_id = ":".join(parts)
    if len(event_id) > v.MAX_ID_LENGTH:
        event_id = "sha256:" + hashlib.sha256(event_id.encode("utf-8")).hexdigest()
    return event_id


def _number(raw: str, field: str) -> float:
    try:
        return v.clean_number(float(raw))
    except ValueError:
        raise RowError(f"{field} {raw[:40]!r} is not a finite number") from None


def _timestamp(raw: str) -> datetime:
    raw = raw.strip()
    try:
        return v.clean_timestamp(float(raw))
    except ValueError:
        return v.clean_timestamp(raw)


def detect_format(path: Path) -> str:
    """``movielens`` for u.data / ratings.dat / ratings.csv, else ``csv``."""
    name = path.name.lower()
    if (
        name in {"u.data", "ratings.dat", "ratings.csv"}
        or name.startswith("u")
        and name.endswith((".base", ".test"))
    ):
        return "movielens"
    return "csv"


def _movielens_lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    name = path.name.lower()
    with path.open(encoding="utf-8", errors="strict", newline="") as fh:
        if name.endswith(".csv"):
            reader = csv.reader(fh)
            header = next(reader, None)
            if header and header[:2] != ["userId", "movieId"]:
                raise ImportFileError(f"{path}: expected a userId,movieId,... header")
            for lineno, fields in enumerate(reader, start=2):
                yield lineno, fields
            return
        sep = "::" if name.endswith(".dat") else "\t"
        for lineno, line in enumerate(fh, start=1):
            line = line.rstrip("\r\n")
            if line:
                yield lineno, line.split(sep)


def read_movielens(path: Path, *, type_: str) -> Iterator[dict[str, Any]]:
    """u.data (tab), ratings.dat (``::``) or ratings.csv (header): user, item, rating, time."""
    for lineno, fields in _movielens_lines(path):
        if len(fields) < 4:
            raise ImportFileError(f"{path}, line {lineno}: expected user, item, rating, timestamp")
        user, item, rating, ts = (f.strip() for f in fields[:4])
        try:
            yield {
                "user_id": v.clean_id(user),
                "item_id": v.clean_id(item),
                "type": type_,
                "value": _number(rating, "rating"),
                "timestamp": _timestamp(ts),
                "event_id": event_id_for(user, item, ts),
            }
        except (RowError, ValueError) as exc:
            raise ImportFileError(f"{path}, line {lineno}: {exc}") from exc


def read_generic_csv(path: Path, *, type_: str) -> Iterator[dict[str, Any]]:
    """``user_id,item_id,value,timestamp[,type]`` with or without that header line."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        for lineno, fields in enumerate(reader, start=1):
            if not fields or (lineno == 1 and fields[0].strip().lower() == "user_id"):
                continue
            if len(fields) not in (4, 5):
                raise ImportFileError(
                    f"{path}, line {lineno}: expected user_id,item_id,value,timestamp[,type]; "
                    f"got {len(fields)} fields"
                )
            user, item, value, ts = (f.strip() for f in fields[:4])
            row_type = fields[4].strip() if len(fields) == 5 and fields[4].strip() else type_
            try:
                yield {
                    "user_id": v.clean_id(user),
                    "item_id": v.clean_id(item),
                    "type": v.clean_type(row_type),
                    "value": _number(value, "value") if value else 1.0,
                    "timestamp": _timestamp(ts),
                    "event_id": event_id_for(user, item, ts)
                    if len(fields) == 4
                    else event_id_for(user, item, row_type, ts),
                }
            except (RowError, ValueError) as exc:
                raise ImportFileError(f"{path}, line {lineno}: {exc}") from exc


def _movie(item_id: str, title: str, genres: list[str], year: int | None) -> dict[str, Any]:
    genres = [g for g in genres if g and g != "(no genres listed)"]
    properties: dict[str, Any] = {"title": title.strip(), "genres": genres}
    if year is not None and 1800 <= year <= 2100:
        properties["year"] = year
    return {"item_id": item_id, "properties": properties, "categories": genres, "active": True}


def _year_of(title: str) -> int | None:
    match = _YEAR.search(title)
    return int(match.group(1)) if match else None


def read_movielens_items(path: Path) -> Iterator[dict[str, Any]]:
    """u.item (``|``, latin-1, genre flags), movies.dat (``::``, latin-1) or movies.csv."""
    name = path.name.lower()
    if name.endswith(".csv"):
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            for row in reader:
                yield _movie(
                    row["movieId"], row["title"], row["genres"].split("|"), _year_of(row["title"])
                )
        return
    raw = path.read_bytes()
    text = raw.decode("utf-8") if _is_utf8(raw) else raw.decode("latin-1")
    for line in io.StringIO(text):
        line = line.rstrip("\r\n")
        if not line:
            continue
        if name.endswith(".dat"):
            item_id, title, genres = line.split("::")[:3]
            yield _movie(item_id, title, genres.split("|"), _year_of(title))
        else:  # u.item
            fields = line.split("|")
            flags = fields[5:24]
            genres = [g for g, f in zip(ML100K_GENRES, flags, strict=False) if f == "1"]
            year = _year_of(fields[1])
            if year is None and fields[2][-4:].isdigit():
                year = int(fields[2][-4:])
            yield _movie(fields[0], fields[1], genres, year)


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def find_items_file(ratings: Path) -> Path | None:
    for name in ("u.item", "movies.dat", "movies.csv"):
        candidate = ratings.with_name(name)
        if candidate.exists():
            return candidate
    return None


def chunked(rows: Iterable[dict[str, Any]], size: int = CHUNK_ROWS) -> Iterator[list[dict]]:
    chunk: list[dict] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def import_items(
    *, tenant, rows: Iterable[dict[str, Any]], progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Upsert item metadata in chunks, validated against the tenant's domain schema."""
    from m6rec.catalog.services import items_upsert
    from m6rec.tenants.domains import get_tenant_domain

    domain = get_tenant_domain(tenant)
    totals = {"created": 0, "updated": 0}
    for chunk in chunked(rows, 5_000):
        for row in chunk:
            problems = domain.validate_item_properties(row["properties"])
            if problems:
                raise ImportFileError(f"item {row['item_id']}: {problems}")
        result = items_upsert(tenant=tenant, rows=chunk)
        totals["created"] += result["created"]
        totals["updated"] += result["updated"]
        if progress:
            progress(len(chunk))
    return totals


def import_interaction_rows(
    *,
    tenant,
    rows: Iterable[dict[str, Any]],
    chunk_size: int = CHUNK_ROWS,
    unknown_refs: str = "create",
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Ingest rows chunk by chunk (one transaction each); returns summed counts."""
    from m6rec.catalog.services import interactions_ingest
    from m6rec.tenants.domains import get_tenant_domain

    types = get_tenant_domain(tenant).interaction_types
    totals = {"received": 0, "created": 0, "duplicate": 0, "users_created": 0, "items_created": 0}
    for chunk in chunked(rows, chunk_size):
        for row in chunk:
            if row["type"] not in types:
                raise ImportFileError(
                    f"interaction type {row['type']!r} is not declared by domain "
                    f"{tenant.domain!r} (known: {', '.join(types)}); pass --type"
                )
        result = interactions_ingest(tenant=tenant, rows=chunk, unknown_refs=unknown_refs)
        for key in totals:
            totals[key] += result[key]
        if progress:
            progress(len(chunk))
    return totals


def default_rating_type(domain) -> str:
    """The type MovieLens ratings get: ``rating`` if declared, else ``like``, else the first."""
    for name in ("rating", "like"):
        if name in domain.interaction_types:
            return name
    return next(iter(domain.interaction_types))


def epoch(dt: datetime) -> float:
    return dt.astimezone(UTC).timestamp()
