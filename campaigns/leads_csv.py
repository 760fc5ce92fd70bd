"""Streaming reader for the leads CSV a sales manager uploads.

Rows are read one at a time, so a 100k-row file never sits in memory. Each row becomes either
a `Lead` or a `BadRow` naming its spreadsheet row number and the reason, so one bad row never
costs the good ones around it.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from campaigns.phone_numbers import InvalidPhoneNumberError, normalize_phone_number
from campaigns.timezones import UnknownTimeZoneError, parse_time_zone

PHONE_COLUMNS = ("phone_number", "phone", "number", "to_number", "phone_no", "mobile", "tel")
TIME_ZONE_COLUMNS = ("timezone", "time_zone", "tz")
NAME_COLUMNS = ("name", "full_name")
FIRST_NAME_COLUMNS = ("first_name", "firstname", "given_name")
LAST_NAME_COLUMNS = ("last_name", "lastname", "surname", "family_name")
# The field agent the lead is assigned to, by their sign-in address.
OWNER_COLUMNS = ("owner_email", "owner")
# A quoted field longer than this many lines is taken for a quote that was never closed.
MAX_LINES_PER_ROW = 50
_DELIMITERS = (",", ";", "\t")
_EMAIL = re.compile(r"[^@\s]{1,200}@[^@\s]{1,200}")


class LeadsFileError(ValueError):
    """The file as a whole cannot be read as leads (no header, no phone number column)."""


@dataclass(frozen=True, slots=True)
class Lead:
    """One importable lead: its E.164 number, its named zone if any, and its prompt variables.

    `variables` holds every column except the number, the zone and the owner, under safe
    identifiers (`Company Name` becomes `company_name`), so the agent's prompt can use
    `{{company_name}}`. `owner_email` (lower-cased) names the field agent the lead is assigned to;
    whether such a person exists is for the importer to check.
    """

    line: int
    phone_number: str
    time_zone: str | None
    name: str | None
    variables: Mapping[str, str]
    owner_email: str | None = None


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row that was not imported: its row number as a spreadsheet shows it, and why."""

    line: int
    reason: str


def variable_name(header: str) -> str:
    """Turn a column header into an identifier of `[a-z0-9_]` that starts with a letter or `_`."""
    ascii_text = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode()
    name = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")
    if name and name[0].isdigit():
        name = f"col_{name}"
    return name


class _Lines:
    """The physical lines of the stream, with push-back and a count of lines per row."""

    def __init__(self, stream: Iterable[str]) -> None:
        self._source = iter(stream)
        self._pushed_back: deque[str] = deque()
        self.taken: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if len(self.taken) >= MAX_LINES_PER_ROW:
            raise _RowTooLongError
        line = self._pushed_back.popleft() if self._pushed_back else next(self._source)
        self.taken.append(line)
        return line

    def push_back(self, lines: list[str]) -> None:
        self._pushed_back.extendleft(reversed(lines))

    def start_row(self) -> None:
        self.taken = []


class _RowTooLongError(Exception):
    pass


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _rows(stream: Iterable[str]) -> Iterator[tuple[int, list[str] | str]]:
    """Yield (row number, cells) or (row number, reason) for every row, blank ones skipped."""
    lines = _Lines(stream)
    row_number = 0
    first = ""
    for line in lines:
        first = line.removeprefix("\ufeff")
        if first.strip():
            break
        row_number += 1
        lines.start_row()
    lines.push_back([first])
    reader = csv.reader(lines, delimiter=_delimiter(first), strict=True)
    while True:
        lines.start_row()
        try:
            cells = next(reader)
        except StopIteration:
            return
        except (csv.Error, _RowTooLongError) as error:
            row_number += 1
            taken = lines.taken
            lines.push_back(taken[1:])
            yield row_number, _csv_error_reason(error)
            reader = csv.reader(lines, delimiter=reader.dialect.delimiter, strict=True)
            continue
        row_number += 1
        if any(cell.strip() for cell in cells):
            yield row_number, cells


def _csv_error_reason(error: Exception) -> str:
    if isinstance(error, _RowTooLongError) or '"' in str(error) or "end of data" in str(error):
        return (
            'malformed CSV: unbalanced quotes ("); quote whole cells and write a " inside '
            'a cell as ""'
        )
    return f"malformed CSV: {error}"


@dataclass(frozen=True, slots=True)
class _Columns:
    phone: int
    time_zone: int | None
    owner: int | None
    name: int | None
    first_name: int | None
    last_name: int | None
    variables: tuple[tuple[str, int], ...]
    width: int

    @classmethod
    def from_header(cls, header: list[str]) -> _Columns:
        names = [variable_name(cell) for cell in header]

        def find(aliases: tuple[str, ...]) -> int | None:
            return next((names.index(alias) for alias in aliases if alias in names), None)

        phone = find(PHONE_COLUMNS)
        if phone is None:
            raise LeadsFileError(
                f"no phone number column in the header {header!r}: "
                f"name one of {', '.join(PHONE_COLUMNS)}"
            )
        time_zone = find(TIME_ZONE_COLUMNS)
        owner = find(OWNER_COLUMNS)
        variables: list[tuple[str, int]] = []
        seen: set[str] = set()
        for index, name in enumerate(names):
            if index in (phone, time_zone, owner):
                continue
            unique = name or f"column_{index + 1}"
            suffix = 2
            while unique in seen:
                unique, suffix = f"{name or 'column'}_{suffix}", suffix + 1
            seen.add(unique)
            variables.append((unique, index))
        return cls(
            phone=phone,
            time_zone=time_zone,
            owner=owner,
            name=find(NAME_COLUMNS),
            first_name=find(FIRST_NAME_COLUMNS),
            last_name=find(LAST_NAME_COLUMNS),
            variables=tuple(variables),
            width=len(header),
        )


def _cell(cells: list[str], index: int | None) -> str:
    if index is None or index >= len(cells):
        return ""
    return cells[index].strip()


def _lead(
    line: int, cells: list[str], columns: _Columns, default_region: str | None
) -> Lead | BadRow:
    if len(cells) > columns.width:
        return BadRow(line, f"{len(cells)} cells but the header has {columns.width}")
    try:
        phone_number = normalize_phone_number(_cell(cells, columns.phone), default_region)
    except InvalidPhoneNumberError as error:
        return BadRow(line, f"phone number {error.raw!r}: {error.reason}")
    time_zone = _cell(cells, columns.time_zone) or None
    if time_zone is not None:
        try:
            time_zone = parse_time_zone(time_zone).key
        except UnknownTimeZoneError as error:
            return BadRow(line, str(error))
    name = _cell(cells, columns.name) or " ".join(
        part for part in (_cell(cells, columns.first_name), _cell(cells, columns.last_name)) if part
    )
    owner_email = _cell(cells, columns.owner).lower() or None
    if owner_email is not None and not _EMAIL.fullmatch(owner_email):
        return BadRow(line, f"owner_email {owner_email!r} is not an e-mail address")
    variables = {key: _cell(cells, index) for key, index in columns.variables}
    return Lead(line, phone_number, time_zone, name or None, variables, owner_email)


def read_leads(
    stream: Iterable[str], *, default_region: str | None = None
) -> Iterator[Lead | BadRow]:
    """Yield a `Lead` or a `BadRow` for every non-blank row of a leads CSV, in file order.

    `stream` is any iterable of text lines (an open file, ideally opened with `newline=""`).
    The delimiter (`,`, `;` or tab) is taken from the header, a UTF-8 byte-order mark is
    ignored, and `default_region` (e.g. "US") reads national-format numbers. A number seen
    earlier in the file is a bad row naming the first line. Raises `LeadsFileError` when the
    file has no header or no phone number column.
    """
    rows = _rows(stream)
    header = next(rows, None)
    if header is None:
        raise LeadsFileError("the file is empty: the first line must be a header")
    header_line, header_cells = header
    if isinstance(header_cells, str):
        raise LeadsFileError(f"the header on line {header_line} is unreadable: {header_cells}")
    columns = _Columns.from_header(header_cells)
    first_line_of: dict[str, int] = {}
    for line, cells in rows:
        if isinstance(cells, str):
            yield BadRow(line, cells)
            continue
        result = _lead(line, cells, columns, default_region)
        if isinstance(result, Lead):
            first = first_line_of.setdefault(result.phone_number, line)
            if first != line:
                result = BadRow(line, f"duplicate of {result.phone_number} on line {first}")
        yield result
