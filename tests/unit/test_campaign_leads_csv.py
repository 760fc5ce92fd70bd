import io
import time
from collections.abc import Iterator

import pytest

from campaigns.leads_csv import BadRow, Lead, LeadsFileError, read_leads, variable_name

pytestmark = pytest.mark.unit


def read(text: str, region: str | None = "US") -> list[Lead | BadRow]:
    return list(read_leads(io.StringIO(text, newline=""), default_region=region))


def leads(results: list[Lead | BadRow]) -> list[Lead]:
    return [r for r in results if isinstance(r, Lead)]


def bad_rows(results: list[Lead | BadRow]) -> list[BadRow]:
    return [r for r in results if isinstance(r, BadRow)]


def test_rows_become_leads_with_e164_numbers() -> None:
    results = read("phone_number,name\n+1 212 555 0100,Ann\n(415) 555-0101,Bob\n")
    assert [lead.phone_number for lead in leads(results)] == ["+12125550100", "+14155550101"]
    assert [lead.line for lead in leads(results)] == [2, 3]


@pytest.mark.parametrize("header", ["phone", "PHONE_NUMBER", "Number", "to_number", "Phone Number"])
def test_phone_column_accepts_common_header_aliases(header: str) -> None:
    assert leads(read(f"{header}\n+12125550100\n"))[0].phone_number == "+12125550100"


def test_file_without_a_phone_column_is_refused_naming_the_accepted_headers() -> None:
    with pytest.raises(LeadsFileError, match="phone_number"):
        read("name,email\nAnn,ann@example.com\n")


def test_empty_file_is_refused() -> None:
    with pytest.raises(LeadsFileError, match="empty"):
        read("")


def test_header_only_file_has_no_rows() -> None:
    assert read("phone,name\n") == []


def test_byte_order_mark_before_the_header_is_ignored() -> None:
    assert leads(read("\ufeffphone\n+12125550100\n"))[0].phone_number == "+12125550100"


def test_semicolon_delimited_file_is_read() -> None:
    lead = leads(read("phone;company\n+12125550100;Acme, Inc.\n"))[0]
    assert lead.variables == {"company": "Acme, Inc."}


def test_blank_lines_are_skipped_but_counted_as_rows() -> None:
    results = read("phone\n\n+12125550100\n\n\nnope\n")
    assert [lead.line for lead in leads(results)] == [3]
    assert [row.line for row in bad_rows(results)] == [6]


def test_bad_number_is_reported_with_its_line_while_good_rows_import() -> None:
    results = read("phone\n+12125550100\n12345\n+14155550101\n")
    assert len(leads(results)) == 2
    (bad,) = bad_rows(results)
    assert bad.line == 3
    assert "'12345'" in bad.reason


def test_national_number_without_a_default_region_is_a_bad_row() -> None:
    (bad,) = bad_rows(read("phone\n212 555 0100\n", region=None))
    assert "country code" in bad.reason


def test_duplicate_number_is_reported_naming_the_first_line() -> None:
    results = read("phone\n+12125550100\n(212) 555-0100\n")
    assert len(leads(results)) == 1
    assert bad_rows(results) == [BadRow(3, "duplicate of +12125550100 on line 2")]


def test_extra_columns_become_variables_under_safe_names() -> None:
    text = "Phone,Company Name,Prénom,2nd Phone,Deal $ (USD)\n+12125550100,Acme,Zoë,x,100\n"
    assert leads(read(text))[0].variables == {
        "company_name": "Acme",
        "prenom": "Zoë",
        "col_2nd_phone": "x",
        "deal_usd": "100",
    }


def test_the_owner_column_names_the_field_agent_and_is_not_a_variable() -> None:
    text = (
        "phone,Owner Email,company\n"
        "+12125550100, Ana@Acme.Example ,Acme\n"
        "+12125550101,,Globex\n"
        "+12125550102,not an address,Initech\n"
    )
    results = read(text)
    first, second = leads(results)
    assert (first.owner_email, first.variables) == ("ana@acme.example", {"company": "Acme"})
    assert second.owner_email is None
    [bad] = bad_rows(results)
    assert (bad.line, bad.reason) == (4, "owner_email 'not an address' is not an e-mail address")


def test_headers_that_normalise_to_the_same_name_stay_distinct() -> None:
    lead = leads(read("phone,Company,company ,\n+12125550100,a,b,c\n"))[0]
    assert lead.variables == {"company": "a", "company_2": "b", "column_4": "c"}


def test_variable_names_contain_only_safe_characters() -> None:
    assert variable_name("  E-mail Address! ") == "e_mail_address"


def test_name_is_built_from_first_and_last_name_columns() -> None:
    lead = leads(read("phone,First Name,Last Name\n+12125550100,Ann,Lee\n"))[0]
    assert lead.name == "Ann Lee"
    assert lead.variables == {"first_name": "Ann", "last_name": "Lee"}


def test_time_zone_column_is_validated_and_canonicalised() -> None:
    results = read("phone,timezone\n+12125550100,europe/paris\n+14155550101,Mars/Base\n")
    assert leads(results)[0].time_zone == "Europe/Paris"
    assert "unknown time zone 'Mars/Base'" in bad_rows(results)[0].reason


def test_empty_time_zone_cell_means_none() -> None:
    assert leads(read("phone,tz\n+12125550100,\n"))[0].time_zone is None


def test_quoted_cell_spanning_lines_is_one_row() -> None:
    results = read('phone,notes\n+12125550100,"line one\nline two"\n+14155550101,x\n')
    assert [lead.line for lead in leads(results)] == [2, 3]
    assert leads(results)[0].variables == {"notes": "line one\nline two"}


def test_unterminated_quote_is_a_bad_row_and_later_rows_still_import() -> None:
    text = 'phone,company\n+12125550100,"Acme\n+14155550101,Beta\n+13125550102,"Gamma"\n'
    results = read(text)
    assert [row.line for row in bad_rows(results)] == [2]
    assert "quote" in bad_rows(results)[0].reason
    assert [lead.line for lead in leads(results)] == [3, 4]


def test_unterminated_quote_on_the_last_row_keeps_the_rows_before_it() -> None:
    results = read('phone,company\n+12125550100,Acme\n+14155550101,"Beta\n')
    assert [lead.line for lead in leads(results)] == [2]
    assert [row.line for row in bad_rows(results)] == [3]


def test_unterminated_quote_followed_by_many_rows_loses_only_its_own_row() -> None:
    rows = "".join(f"+1212555{n:04d},x\n" for n in range(200))
    results = read('phone,company\n+14155550101,"Beta\n' + rows)
    assert len(bad_rows(results)) == 1
    assert len(leads(results)) == 200


def test_row_with_more_cells_than_the_header_is_a_bad_row() -> None:
    (bad,) = bad_rows(read("phone,name\n+12125550100,Ann,extra\n"))
    assert bad.reason == "3 cells but the header has 2"


def test_row_with_fewer_cells_than_the_header_imports_with_empty_variables() -> None:
    assert leads(read("phone,name,company\n+12125550100\n"))[0].variables == {
        "name": "",
        "company": "",
    }


def test_rows_are_read_as_they_stream_in() -> None:
    consumed: list[str] = []

    def lines() -> Iterator[str]:
        for line in ["phone\n", "+12125550100\n", "+14155550101\n", "+13125550102\n"]:
            consumed.append(line)
            yield line

    first = next(read_leads(lines(), default_region="US"))
    assert isinstance(first, Lead)
    assert len(consumed) == 2


def test_hundred_thousand_rows_are_read_in_bounded_time() -> None:
    def lines() -> Iterator[str]:
        yield "phone,first_name,company\n"
        for n in range(100_000):
            yield f"+1{200 + n % 700:03d}555{n % 10_000:04d},Lead {n},Company {n}\n"

    started = time.perf_counter()
    count = sum(1 for _ in read_leads(lines(), default_region="US"))
    assert count == 100_000
    assert time.perf_counter() - started < 60  # a sanity bound: ~5 s here, CI machines vary
