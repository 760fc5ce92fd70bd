"""Fuzzing the leads CSV import: any upload yields a `Lead` or a `BadRow` per row, or one
`LeadsFileError` for the file as a whole; the leads it accepts, written back as CSV, read back
as the same leads; the upload's bytes become the same text line by line as at once."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from app.outbound.leads import _lines
from campaigns.leads_csv import BadRow, Lead, LeadsFileError, read_leads, variable_name
from tests.fuzz.harness import FUZZ, byte_mutants, case

pytestmark = [pytest.mark.unit, pytest.mark.fuzz]
TARGET = "leads_csv"
REGIONS = st.sampled_from([None, "US", "GB", "DE"])


def read_all(data: bytes, region: str | None) -> list[Lead | BadRow] | None:
    try:
        return list(read_leads(_lines(io.BytesIO(data)), default_region=region))
    except LeadsFileError as error:
        check_message(str(error))
        return None


def check_message(message: str) -> None:
    assert message.strip()


def written_back(leads: list[Lead]) -> bytes:
    keys = sorted({key for lead in leads for key in lead.variables})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["phone_number", "timezone", "owner_email", *keys])
    for lead in leads:
        values = [lead.variables.get(key, "") for key in keys]
        writer.writerow([lead.phone_number, lead.time_zone or "", lead.owner_email or "", *values])
    return out.getvalue().encode("utf-8")


def check(data: bytes, region: str | None) -> None:
    rows = read_all(data, region)
    if rows is None:
        return
    lines = [row.line for row in rows]
    assert lines == sorted(set(lines)), "rows out of order or twice"
    leads = [row for row in rows if isinstance(row, Lead)]
    for row in rows:
        if isinstance(row, BadRow):
            assert row.reason.strip()
    for lead in leads:
        assert lead.phone_number.startswith("+")
        assert lead.phone_number[1:].isdigit()
        assert all(variable_name(key) == key for key in lead.variables)
    assert len({lead.phone_number for lead in leads}) == len(leads)
    event(f"leads accepted: {min(len(leads), 2)}")
    if not leads:
        return
    again = read_all(written_back(leads), region)
    assert again is not None
    assert len(again) == len(leads)
    for lead, row in zip(leads, again, strict=True):
        assert isinstance(row, Lead), row
        assert (row.phone_number, row.time_zone, row.owner_email) == (
            lead.phone_number,
            lead.time_zone,
            lead.owner_email,
        )
        assert {key: row.variables[key] for key in lead.variables} == dict(lead.variables)
        assert not any(row.variables[key] for key in row.variables if key not in lead.variables)


@FUZZ
@given(byte_mutants("leads_csv"), REGIONS)
def test_mutated_uploads_are_read_row_by_row(data: bytes, region: str | None) -> None:
    with case(TARGET):
        check(data, region)


CELL = st.text(max_size=12) | st.sampled_from(
    ["+14155550100", "+442079460958", "(212) 555-0182", "Europe/Paris", '"', '""', "a@b.c", "\n"]
)
HEADERS = st.lists(
    st.sampled_from(["phone", "Name", "tz", "owner", "first_name", "", "Name", "column_1", "x"]),
    min_size=1,
    max_size=5,
)


@FUZZ
@given(
    HEADERS,
    st.lists(st.lists(CELL, min_size=1, max_size=5), max_size=6),
    st.sampled_from([",", ";", "\t"]),
    REGIONS,
)
def test_generated_tables_are_read_row_by_row(
    header: list[str], table: list[list[str]], delimiter: str, region: str | None
) -> None:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows([["phone", *header], *table])
    with case(TARGET):
        check(out.getvalue().encode("utf-8"), region)


@FUZZ
@given(st.binary(max_size=400), st.integers(1, 64))
def test_upload_bytes_decode_the_same_in_any_chunking(data: bytes, chunk: int) -> None:
    with case(TARGET):

        class Chunked(io.BytesIO):
            def read(self, size: int | None = -1) -> bytes:
                return super().read(chunk)

        assert "".join(_lines(Chunked(data))) == data.decode("utf-8", "replace")
