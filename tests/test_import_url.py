"""``import-url`` and its ``update``: one object on S3 (the moto server) or a file, tracked with
what the store said of it; ``update`` asks again and downloads only when it changed."""

from __future__ import annotations

import json

import boto3
import pytest
from helpers import oid, ok, one_line_error
from remote_helpers import S3Store, add_remote

from dvlite.records import pointer as pointers


@pytest.fixture
def bucket(repo, s3_store: S3Store):  # type: ignore[no-untyped-def]
    """The moto bucket holding raw/data.csv, reached through the repository's own S3 remote
    on that bucket (its endpoint), as a user's config would."""
    add_remote(s3_store)
    client = boto3.client(
        "s3", endpoint_url=s3_store.options["endpoint_url"], region_name="us-east-1"
    )
    client.put_object(Bucket="bucket", Key="raw/data.csv", Body=b"a,b\n1,2\n")
    return client


def test_import_url_from_s3_records_the_etag(repo, dvlite, bucket) -> None:
    r = ok(dvlite("import-url", "s3://bucket/raw/data.csv"))
    assert r.stdout == "Imported data.csv from s3://bucket/raw/data.csv (8 B)\n"
    assert (repo.root / "data.csv").read_bytes() == b"a,b\n1,2\n"
    p = pointers.load(repo.root / "data.csv.dvl")
    assert p.oid == oid(b"a,b\n1,2\n") and p.size == 8
    etag = bucket.head_object(Bucket="bucket", Key="raw/data.csv")["ETag"]
    assert p.source.url == "s3://bucket/raw/data.csv" and p.source.etag == etag  # type: ignore[union-attr]
    text = (repo.root / "data.csv.dvl").read_text()
    assert text.startswith(f"version: 1\npath: data.csv\nkind: file\noid: {p.oid}\nsize: 8\n")
    assert "\nsource:\n  url: s3://bucket/raw/data.csv\n  etag: " in text
    assert p.source.size == 8 and p.source.mtime  # type: ignore[union-attr]


def test_update_downloads_only_when_the_object_changed(repo, dvlite, bucket) -> None:
    ok(dvlite("import-url", "s3://bucket/raw/data.csv", "raw.csv"))
    r = ok(dvlite("update", "raw.csv.dvl"))
    assert r.stdout == "raw.csv.dvl: up to date (s3://bucket/raw/data.csv)\n"
    bucket.put_object(Bucket="bucket", Key="raw/data.csv", Body=b"a,b\n3,4\n5,6\n")
    r = ok(dvlite("update", "--json"))
    [result] = json.loads(r.stdout)
    assert result["status"] == "updated" and result["oid"] == oid(b"a,b\n3,4\n5,6\n")
    assert (repo.root / "raw.csv").read_bytes() == b"a,b\n3,4\n5,6\n"
    # the same bytes written again: a new ETag? S3 gives the same; the pointer stays
    bucket.put_object(Bucket="bucket", Key="raw/data.csv", Body=b"a,b\n3,4\n5,6\n")
    assert ok(dvlite("update")).stdout.endswith("up to date (s3://bucket/raw/data.csv)\n")


def test_import_url_errors(repo, dvlite, bucket) -> None:
    cases = {
        ("import-url", "s3://bucket/raw/nope.csv"): "Error: s3://bucket/raw/nope.csv: no such "
        "object (or no access to it)",
        ("import-url", "s3://bucket/raw"): "Error: s3://bucket/raw is a folder (a prefix); "
        "import-url takes one object",
        ("import-url", "ftp://host/x.csv"): "Error: import-url takes s3://, gs://, az://, "
        "http(s):// or file URLs, not ftp://host/x.csv",
        ("import-url", "s3://bucket/raw/data.csv", "-r", "nope"): "Error: no remote named "
        "'nope' in your config to take options from",
        ("update", "--rev", "v1"): "Error: --rev applies to imports from a repository, not "
        "data.csv",
    }
    ok(dvlite("import-url", "s3://bucket/raw/data.csv"))
    for args, expected in cases.items():
        assert one_line_error(dvlite(*args)) == expected


def test_import_url_of_a_local_file(repo, dvlite, tmp_path_factory) -> None:
    outside = tmp_path_factory.mktemp("files") / "table.csv"
    outside.write_text("one\n")
    ok(dvlite("import-url", str(outside)))
    assert (repo.root / "table.csv").read_text() == "one\n"
    line = one_line_error(dvlite("update"))
    assert "its source" in line and "is on this machine" in line
    assert ok(dvlite("update", "--allow-local")).stdout.startswith("table.csv.dvl: up to date")
    outside.write_text("two, longer\n")
    ok(dvlite("update", "--allow-local"))
    assert (repo.root / "table.csv").read_text() == "two, longer\n"
    outside.unlink()
    line = one_line_error(dvlite("update", "--allow-local"))
    assert line == f"Error: {outside}: no such file"
