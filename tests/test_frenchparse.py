"""French value parsers: amounts, dates, months, payment methods, names."""

from __future__ import annotations

import contextlib
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from osteo_analytics.sources.frenchparse import (
    BadValue,
    PersonName,
    excel_serial_to_date,
    fold,
    month_number,
    parse_amount,
    parse_date,
    parse_period,
    payment_method,
    split_name,
)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("55", "55.00"),
        ("55,00", "55.00"),
        ("55,5", "55.50"),
        ("55.00", "55.00"),
        ("1 234,50", "1234.50"),
        ("1\u00a0234,50\u00a0€", "1234.50"),
        ("1\u202f234,50 €", "1234.50"),
        ("€ 60", "60.00"),
        ("60 EUR", "60.00"),
        ("60€", "60.00"),
        ("1.234,50", "1234.50"),
        ("1,234.50", "1234.50"),
        ("1.234", "1234.00"),
        ("1.234.567,89", "1234567.89"),
        ("-55,00", "-55.00"),
        ("\u221255,00", "-55.00"),
        ("- 55,00 €", "-55.00"),
        ("55,00-", "-55.00"),
        ("(55,00)", "-55.00"),
        ("(55,00 €)", "-55.00"),
        ("+55", "55.00"),
        ("0", "0.00"),
        (55, "55.00"),
        (55.5, "55.50"),
        (-60.0, "-60.00"),
        (64.99999999999, "65.00"),
        (0.1 + 0.2, "0.30"),
        (Decimal("12.3"), "12.30"),
    ],
)
def test_amounts_as_people_type_them(cell: object, expected: str) -> None:
    assert parse_amount(cell) == Decimal(expected)


@pytest.mark.parametrize("cell", [None, "", "   ", "\u00a0"])
def test_an_empty_amount_is_none(cell: object) -> None:
    assert parse_amount(cell) is None


@pytest.mark.parametrize(
    "cell",
    [
        "gratuit",
        "55,00 / 60,00",
        "55,125",  # three decimals after a comma: a typo, not a thousand
        "1,234",
        "12.34.5",
        "0.123",
        "--55",
        "55,",
        ",50",
        "1e5",
        "NaN",
        "∞",
        "1" * 12,
        True,
        55.125,
        float("nan"),
        float("inf"),
        [],
    ],
)
def test_bad_amounts_are_bad_amount(cell: object) -> None:
    with pytest.raises(BadValue) as err:
        parse_amount(cell)
    assert err.value.rule == "bad_amount"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("15/03/2024", date(2024, 3, 15)),
        ("5/3/2024", date(2024, 3, 5)),
        ("15/03/24", date(2024, 3, 15)),
        ("15/03/95", date(1995, 3, 15)),
        ("15.03.2024", date(2024, 3, 15)),
        ("15-03-2024", date(2024, 3, 15)),
        ("2024-03-15", date(2024, 3, 15)),
        ("15/03/2024 14:30", date(2024, 3, 15)),
        ("2024-03-15T14:30:00", date(2024, 3, 15)),
        ("15 mars 2024", date(2024, 3, 15)),
        ("15 Mars 2024", date(2024, 3, 15)),
        ("1er février 2024", date(2024, 2, 1)),
        ("3 févr. 2024", date(2024, 2, 3)),
        ("3 fevr 2024", date(2024, 2, 3)),
        ("3 FÉV 24", date(2024, 2, 3)),
        ("15 août 2024", date(2024, 8, 15)),
        ("15 aout 2024", date(2024, 8, 15)),
        ("7 déc. 2023", date(2023, 12, 7)),
        ("lundi 15 janvier 2024", date(2024, 1, 15)),
        ("15-mars-24", date(2024, 3, 15)),
        ("1 sept. 2024", date(2024, 9, 1)),
        ("1 juil 2024", date(2024, 7, 1)),
        (date(2024, 3, 15), date(2024, 3, 15)),
        (datetime(2024, 3, 15, 9, 30), date(2024, 3, 15)),
        (45366, date(2024, 3, 15)),
        (45366.75, date(2024, 3, 15)),
        ("45366", date(2024, 3, 15)),
    ],
)
def test_dates_day_first(cell: object, expected: date) -> None:
    assert parse_date(cell) == expected


def test_a_date_without_year_takes_the_given_year() -> None:
    assert parse_date("15 mars", year=2024) == date(2024, 3, 15)
    assert parse_date("15/03", year=2024) == date(2024, 3, 15)
    with pytest.raises(BadValue):
        parse_date("15 mars")


@pytest.mark.parametrize(
    "cell",
    [
        "03/15/2024",  # month first: never guessed
        "31/02/2024",
        "15/03/1024",
        "hier",
        "15 marsh 2024",
        "15 mars 202",
        "2024",
        "15/03/2024/1",
        0,
        -5,
        3_000_000,
        True,
        float("nan"),
    ],
)
def test_bad_dates_are_bad_date(cell: object) -> None:
    with pytest.raises(BadValue) as err:
        parse_date(cell)
    assert err.value.rule == "bad_date"


def test_excel_serials_use_the_1900_system() -> None:
    assert excel_serial_to_date(1) == date(1899, 12, 31)  # Excel shows 1900-01-01: off by
    assert excel_serial_to_date(61) == date(1900, 3, 1)  # one only before its fake 29/02
    assert excel_serial_to_date(45292) == date(2024, 1, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Janvier 2024", (2024, 1)),
        ("janv. 24", (2024, 1)),
        ("FÉVRIER", (None, 2)),
        ("Août 2025", (2025, 8)),
        ("01-2024", (2024, 1)),
        ("2024-12", (2024, 12)),
        ("12.2024", (2024, 12)),
        ("2024", (2024, None)),
        ("Recettes 2024", (2024, None)),
        ("Feuil1", (None, None)),
        ("13-2024", (2024, None)),
    ],
)
def test_periods_named_by_sheets(text: str, expected: tuple[int | None, int | None]) -> None:
    assert parse_period(text) == expected


def test_month_names() -> None:
    assert [month_number(m) for m in ("janv.", "Fév", "AOÛT", "déc", "mai")] == [1, 2, 8, 12, 5]
    assert month_number("mois") is None


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("CB", "cb"),
        ("cb", "cb"),
        ("Carte", "cb"),
        ("Carte bancaire", "cb"),
        ("Carte bleue", "cb"),
        ("CB sans contact", "cb"),
        ("Chèque", "cheque"),
        ("cheque", "cheque"),
        ("Chq", "cheque"),
        ("CHQ", "cheque"),
        ("Chq.", "cheque"),
        ("Chèque n° 1234567", "cheque"),
        ("Espèces", "especes"),
        ("especes", "especes"),
        ("Esp", "especes"),
        ("Esp.", "especes"),
        ("Liquide", "especes"),
        ("Virement", "virement"),
        ("Vir", "virement"),
        ("VRT", "virement"),
        ("virement bancaire", "virement"),
        ("Chèque vacances", "autre"),
        ("ANCV", "autre"),
        ("Paylib", "autre"),
        ("", "autre"),
        (None, "autre"),
        (12, "autre"),
    ],
)
def test_payment_methods(cell: object, expected: str) -> None:
    assert payment_method(cell) == expected


@pytest.mark.parametrize(
    ("cell", "family", "first", "sex"),
    [
        ("DUPONT Jean", "DUPONT", "Jean", None),
        ("DUPONT Jean-Pierre", "DUPONT", "Jean-Pierre", None),
        ("DA COSTA Alex", "DA COSTA", "Alex", None),
        ("Jean DUPONT", "DUPONT", "Jean", None),
        ("Marie-Claire LE BERRE-HAMON", "LE BERRE-HAMON", "Marie-Claire", None),
        ("Jean de LA FONTAINE", "de LA FONTAINE", "Jean", None),
        ("D'ARTAGNAN Charles", "D'ARTAGNAN", "Charles", None),
        ("Dupont, Jean", "Dupont", "Jean", None),
        ("DUPONT , Jean Marc", "DUPONT", "Jean Marc", None),
        ("Dupont Jean", "Dupont", "Jean", None),
        ("DUPONT JEAN", "DUPONT", "JEAN", None),
        ("DUPONT", "DUPONT", "", None),
        ("  DUPONT   Jean  ", "DUPONT", "Jean", None),
        ("Mme MARTIN Marie", "MARTIN", "Marie", "F"),
        ("M. DURAND Paul", "DURAND", "Paul", "M"),
        ("J.-P. DUPONT", "DUPONT", "J.-P.", None),
        ('=HYPERLINK("x")', '=HYPERLINK("x")', "", None),
    ],
)
def test_names_upper_case_words_are_the_family_name(
    cell: str, family: str, first: str, sex: str | None
) -> None:
    assert split_name(cell) == PersonName(family, first, sex)


@pytest.mark.parametrize("cell", [None, "", "  ", "1234", "--", 12.5])
def test_a_cell_without_letters_is_no_name(cell: object) -> None:
    assert split_name(cell) is None


def test_fold() -> None:
    assert fold("N° Facture") == "n facture"
    assert fold("Date d'encaissement ") == "date d encaissement"
    assert fold("MONTANT (€)") == "montant"


_CELLS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.text(alphabet="0123456789 ,.-()€\u00a0\u202f/", max_size=20),
    st.dates(),
    st.datetimes(),
)


@given(_CELLS)
def test_parsers_raise_nothing_but_bad_value(cell: object) -> None:
    for parse in (parse_amount, parse_date):
        with contextlib.suppress(BadValue):
            parse(cell)
    assert payment_method(cell) in ("cb", "cheque", "especes", "virement", "autre")
    name = split_name(cell)
    assert name is None or name.family


@given(st.integers(min_value=-(10**11), max_value=10**11))
def test_amount_round_trip_through_french_text(cents: int) -> None:
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    text = f"{sign}{whole:,}".replace(",", "\u202f") + f",{frac:02d} €"
    expected = Decimal(cents) / 100
    if abs(expected) >= Decimal("1e9"):
        with pytest.raises(BadValue):
            parse_amount(text)
    else:
        assert parse_amount(text) == expected
