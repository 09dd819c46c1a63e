"""The people of the synthetic practice: the office, its practitioners and its patients.

A patient is a pure function of (seed, patient index, registration day), drawn from the
patient's own random stream in a fixed order: identity, birth date, birth name, sex,
address, e-mail, occupation, then contacts and history. The simulation keeps only small
integers per patient (registration day, birth day, traits: `PatientFactory.core`); a
writer that prints the patient on each visit asks for a `Card` (identity and address: the
start of the stream, cheap to redraw), kept in a small recency cache, and the full
`Patient` record is drawn once, when the patient is created. So memory does not grow with
the size of the patient base beyond a few bytes per patient. Identities are unique by
construction (see `_identity`), except for namesakes (`namesake_of`): one patient in
every `NAMESAKE_BLOCK` bears the family, first and birth name of an earlier one, living
elsewhere, in the same city or at the same address. Namesakes never share a birth date
(LibreOsteo keeps first name, family name and birth date unique), and a hand-kept ledger
tells them apart by a mark ('MARTIN Julie (2)', see `ledger_name`).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from osteo_analytics.synthetic import vocab

# LibreOsteo's office settings, copied onto every invoice.
OFFICE_NAME = "Cabinet d'ostéopathie du Thabor"
OFFICE_STREET = "12, rue de Paris"
OFFICE_COMPLEMENT = "1er étage"
OFFICE_ZIPCODE = "35000"
OFFICE_CITY = "Rennes"
OFFICE_PHONE = "02 99 38 12 40"
OFFICE_SIRET = "82345678900017"
INVOICE_CONTENT = "Séance d'ostéopathie"
OFFICE_FOOTER = "Exonération de TVA, art. 261-4-1° du CGI. Règlement à l'issue de la séance."


@dataclass(frozen=True, slots=True)
class Practitioner:
    """One osteopath of the shared cabinet, with a weekly schedule of half-days."""

    index: int
    first_name: str
    last_name: str
    role: str  # titular | associate
    adeli: str
    siret: str  # the associate invoices under their own SIRET
    quality: str
    footer: str
    halfdays: frozenset[tuple[int, int]]  # (weekday 0=Monday, 0=morning / 1=afternoon)

    @property
    def id(self) -> int:
        """LibreOsteo user / therapist id."""
        return self.index + 1

    @property
    def username(self) -> str:
        return (self.first_name[0] + self.last_name).lower().replace(" ", "")

    @property
    def email(self) -> str:
        first = vocab.fold(self.first_name).lower()
        last = vocab.fold(self.last_name).lower().replace(" ", "").replace("'", "")
        return f"{first}.{last}@osteo-thabor.fr"

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


_FULL_WEEK = {(d, h) for d in range(5) for h in (0, 1)}
# Titular: Monday to Friday. Associates: four days, each missing different half-days.
_SCHEDULES = [
    _FULL_WEEK,
    _FULL_WEEK - {(2, 0), (4, 1)},
    _FULL_WEEK - {(0, 0), (3, 1)},
    _FULL_WEEK - {(1, 0), (4, 0)},
]
_PRACTITIONER_NAMES = [
    ("Gaëlle", "Le Floc'h"),
    ("Loïc", "Hervé"),
    ("Maëlys", "Cadiou"),
    ("Benoît", "Rivière"),
    ("Anaïs", "Guého"),
    ("Jérôme", "Le Bihan"),
]


def make_practitioners(count: int, seed: int) -> list[Practitioner]:
    """The titular (index 0) and `count - 1` associates; names rotate with the seed."""
    result = []
    for i in range(count):
        first, last = _PRACTITIONER_NAMES[(seed + i) % len(_PRACTITIONER_NAMES)]
        if i >= len(_PRACTITIONER_NAMES):
            last = f"{last}-{_PRACTITIONER_NAMES[i % 3][1]}"
        titular = i == 0
        result.append(
            Practitioner(
                index=i,
                first_name=first,
                last_name=last,
                role="titular" if titular else "associate",
                adeli=f"35{(seed * 7919 + i * 104729) % 10_000_000:07d}",
                siret=OFFICE_SIRET if titular else f"9{(seed * 31 + i * 7877) % 10**12:012d}5",
                quality="Ostéopathe D.O." if titular else "Ostéopathe D.O., collaborateur",
                footer=OFFICE_FOOTER
                if titular
                else f"{first[0]}. {last}, ostéopathe collaborateur. "
                "Exonération de TVA, art. 261-4-1° du CGI.",
                halfdays=frozenset(_SCHEDULES[i % len(_SCHEDULES)]),
            )
        )
    return result


def office_header(titular: Practitioner) -> str:
    """The invoice header LibreOsteo prints (office setting, two lines)."""
    return f"{OFFICE_NAME}\n{titular.display_name}, ostéopathe D.O."


def lo_family(name: str) -> str:
    """LibreOsteo's normalization of family names: 'Le Berre-Hamon' -> 'Le Berre-hamon'."""
    return " ".join(w[:1].upper() + w[1:] for w in name.lower().split(" "))


def lo_first(name: str) -> str:
    """LibreOsteo's normalization of first names: spaces become '-', each part capitalized."""
    return "-".join(p[:1].upper() + p[1:].lower() for p in name.replace(" ", "-").split("-"))


@dataclass(frozen=True, slots=True)
class Patient:
    """A patient file as LibreOsteo holds it (names already normalized the LibreOsteo way)."""

    index: int
    family_name: str
    original_name: str
    first_name: str
    birth_date: dt.date
    sex: str
    street: str
    complement: str
    zipcode: str
    city: str
    email: str
    phone: str
    mobile: str
    job: str
    hobbies: str
    smoker: bool
    laterality: str
    important_info: str
    current_treatment: str
    surgical_history: str
    medical_history: str
    family_history: str
    trauma_history: str
    medical_reports: str
    created: dt.date
    doctor: int | None
    student: bool

    @property
    def id(self) -> int:
        """LibreOsteo patient id: patients are created in index order."""
        return self.index + 1

    @property
    def ledger_name(self) -> str:
        """How a hand-kept ledger names the patient: 'NOM Prénom' (see `ledger_name`)."""
        return ledger_name(self.index)


# Female patients are 11 in 20 (by index), so identity is a pure function of the index.
_FEMALE_PER_20 = 11


# The name pools, normalized the LibreOsteo way once (identity is drawn on every visit).
_LO_FAMILY = [lo_family(name) for name in vocab.FAMILY_NAMES]
_LO_FEMALE = [lo_first(name) for name in vocab.FEMALE_FIRST]
_LO_MALE = [lo_first(name) for name in vocab.MALE_FIRST]


# Namesakes: in each block of NAMESAKE_BLOCK patient indexes, the patient at NAMESAKE_OFFSET
# takes the family, first and birth name of the one at ELDER_OFFSET (same sex: the offsets
# are 40 apart, twice the sex cycle of 20), and where they live depends on the block:
# another city, the same city (another street), or the same address (a parent and child
# of the same name: only the day of their sessions tells their invoices apart).
NAMESAKE_BLOCK, ELDER_OFFSET, NAMESAKE_OFFSET = 50, 5, 45
ELSEWHERE, SAME_CITY, SAME_ADDRESS = 0, 1, 2
NAMESAKE_KINDS = (ELSEWHERE, SAME_CITY, SAME_ADDRESS)  # by block, in turn


def namesake_of(index: int) -> tuple[int, int] | None:
    """(elder index, kind) when this patient is the namesake of an earlier one, else None."""
    block, offset = divmod(index, NAMESAKE_BLOCK)
    if offset != NAMESAKE_OFFSET:
        return None
    return block * NAMESAKE_BLOCK + ELDER_OFFSET, NAMESAKE_KINDS[block % len(NAMESAKE_KINDS)]


def housemate_of(index: int) -> int | None:
    """The namesake living at the same address as this patient (both ways), if any."""
    block, offset = divmod(index, NAMESAKE_BLOCK)
    if NAMESAKE_KINDS[block % len(NAMESAKE_KINDS)] != SAME_ADDRESS:
        return None
    if offset == NAMESAKE_OFFSET:
        return block * NAMESAKE_BLOCK + ELDER_OFFSET
    if offset == ELDER_OFFSET:
        return block * NAMESAKE_BLOCK + NAMESAKE_OFFSET
    return None


def _identity(index: int) -> tuple[str, str, bool]:
    """Family name, first name and sex for a patient index; injective but for namesakes."""
    namesake = namesake_of(index)
    if namesake is not None:
        return _identity(namesake[0])
    block, bucket = divmod(index, 20)
    female = bucket < _FEMALE_PER_20
    if female:
        k, firsts = block * _FEMALE_PER_20 + bucket, _LO_FEMALE
    else:
        k, firsts = block * (20 - _FEMALE_PER_20) + bucket - _FEMALE_PER_20, _LO_MALE
    families = vocab.FAMILY_NAMES
    q, r = divmod(k, len(families))
    level, j = divmod(q, len(firsts))
    # past every (family, first) pair: compound family names, still unique
    family = _compound(r, (r + level) % len(families)) if level else _LO_FAMILY[r]
    return family, firsts[(j + r) % len(firsts)], female


@functools.lru_cache(maxsize=1 << 14)
def _compound(first: int, second: int) -> str:
    families = vocab.FAMILY_NAMES
    return lo_family(f"{families[first]}-{families[second]}")


def randint(getrandbits: Callable[[int], int], low: int, high: int) -> int:
    """Random.randint(low, high) with the same draws, without its three layers of calls."""
    n = high - low + 1
    k = n.bit_length()
    r = getrandbits(k)
    while r >= n:
        r = getrandbits(k)
    return low + r


_AGE_BANDS = [
    (0.14, 2, 11),
    (0.20, 12, 17),
    (0.30, 18, 25),
    (0.80, 26, 64),
    (0.91, 65, 74),
    (1.0, 75, 96),
]


def _age_days(rng: random.Random) -> int:
    """Age at the first visit, in days: infants, children, students, adults, elderly."""
    u = rng.random()
    if u < 0.06:
        return randint(rng.getrandbits, 12, 700)  # infant (< 2 years)
    for limit, low, high in _AGE_BANDS:
        if u < limit:
            return randint(rng.getrandbits, low * 365 + 30, high * 365 + 330)
    raise AssertionError("unreachable")


def _phone(rng: random.Random, mobile: bool) -> str:
    """A French number in one of the spellings people type (spaces, dots, +33, none)."""
    first = ("67" if mobile else "1259")[int(rng.random() * (2 if mobile else 4))]
    digits = first + f"{int(rng.random() * 10**8):08d}"
    pairs = ["0" + digits[0]] + ["".join(digits[i : i + 2]) for i in range(1, 9, 2)]
    style = rng.random()
    if style < 0.55:
        return " ".join(pairs)
    if style < 0.75:
        return "".join(pairs)
    if style < 0.9:
        return ".".join(pairs)
    return "+33 " + digits[0] + " " + " ".join(pairs[1:])


K = TypeVar("K")
V = TypeVar("V")

# Patient traits the simulation needs on every visit, as bits of one byte.
FEMALE, MALE, DISCOUNT = 1, 2, 4  # sex 'F' / 'M' (neither: unknown); student or job-seeker
JOB_SEEKER = "Demandeur d'emploi"


class RecentCache(Generic[K, V]):
    """A bounded cache that keeps what was used recently (two generations, O(1) per call).

    Lookups hit the young generation, then the old one (and move up); when the young one
    is full it becomes the old one and the previous old one is dropped. Patients come back
    within weeks (follow-ups) or not for months: recency is what predicts a reuse.
    """

    def __init__(self, make: Callable[[K], V], size: int) -> None:
        self._make = make
        self._size = size
        self._young: dict[K, V] = {}
        self._old: dict[K, V] = {}
        self.misses = 0

    def __call__(self, key: K) -> V:
        value = self._young.get(key)
        if value is not None:
            return value
        value = self._old.get(key)
        if value is None:
            value = self._make(key)
            self.misses += 1
        if len(self._young) >= self._size:
            self._old, self._young = self._young, {}
        self._young[key] = value
        return value


@dataclass(frozen=True, slots=True)
class Card:
    """What an export prints of a patient on every visit and invoice: identity, address."""

    index: int
    family_name: str
    original_name: str
    first_name: str
    birth_date: dt.date
    street: str
    complement: str
    zipcode: str
    city: str

    @property
    def id(self) -> int:
        """LibreOsteo patient id: patients are created in index order."""
        return self.index + 1


def ledger_name(index: int) -> str:
    """How a hand-kept ledger names the patient: 'NOM Prénom', 'NOM Prénom (2)' for a namesake.

    A ledger has nothing else to tell namesakes apart, so its keeper marks the second one.
    """
    family, first, _ = _identity(index)
    mark = " (2)" if namesake_of(index) is not None else ""
    return f"{family.upper()} {first}{mark}"


_CARD, _CORE, _FULL = 0, 1, 2
_SUFFIXES = ["", "", "", " bis", " ter"]
_LATERALITY = ["R", "R", "R", "R", "L", ""]


class PatientFactory:
    """Draws patients from (seed, index, registration day): full records, cores and cards."""

    def __init__(self, seed: int, cache_size: int = 1 << 15) -> None:
        self._seed = seed
        self._streets = vocab.street_names(seed)
        self._cities = [(z, c) for z, c, _ in vocab.CITIES]
        self._city_weights = list(itertools.accumulate(w for _, _, w in vocab.CITIES))
        self._city_total = self._city_weights[-1] + 0.0
        self._created: Callable[[int], int] | None = None
        self.cards: RecentCache[int, Card] = RecentCache(self._card, cache_size)
        self.ledger_names: RecentCache[int, str] = RecentCache(ledger_name, cache_size)

    def register(self, created: Callable[[int], int]) -> None:
        """Where to find a patient's registration day (ordinal), for `card`."""
        self._created = created

    def get(self, index: int, created: dt.date) -> Patient:
        """The full record of the patient with this index, registered on `created`."""
        record = self._build(index, created, _FULL)
        assert isinstance(record, Patient)
        return record

    def core(self, index: int, created: dt.date) -> tuple[int, int]:
        """(birth day ordinal, traits) of a patient: what the simulation needs, drawn fast."""
        core = self._build(index, created, _CORE)
        assert isinstance(core, tuple)
        return core

    def card(self, index: int) -> Card:
        """The patient's card (recently used cards are kept; others are redrawn)."""
        return self.cards(index)

    def _card(self, index: int) -> Card:
        assert self._created is not None, "register() the registration days first"
        card = self._build(index, dt.date.fromordinal(self._created(index)), _CARD)
        assert isinstance(card, Card)
        return card

    def _build(self, index: int, created: dt.date, level: int) -> Patient | Card | tuple[int, int]:
        rng = random.Random(self._seed * 1_000_003 + index)
        rnd = rng.random

        def choice(pool: Sequence[str]) -> str:  # a third of the cost of Random.choice
            return pool[int(rnd() * len(pool))]

        family, first, female = _identity(index)
        birth = created - dt.timedelta(days=_age_days(rng))
        namesake = namesake_of(index)
        # the elder was registered before (smaller index): its card can be drawn
        elder = self.cards(namesake[0]) if namesake is not None else None
        if elder is not None and birth == elder.birth_date:
            birth -= dt.timedelta(days=1)  # LibreOsteo would refuse a second identical identity
        age = (created - birth).days // 365
        minor = age < 18
        original = ""
        if female and age >= 25 and rnd() < 0.3:
            original = lo_family(choice(vocab.FAMILY_NAMES))
        sex = ("F" if female else "M") if rnd() > 0.06 else ""
        # rng.choices(cities, cum_weights=...)[0], without its checks: the same single draw
        zipcode, city = self._cities[
            bisect.bisect(self._city_weights, rnd() * self._city_total, 0, len(self._cities) - 1)
        ]
        number = randint(rng.getrandbits, 1, 180)
        suffix = choice(_SUFFIXES)
        comma = "," if rnd() < 0.25 else ""
        street_name = choice(self._streets)
        street = f"{number}{suffix}{comma} {street_name}"
        complement = choice(vocab.ADDRESS_COMPLEMENTS) if rnd() < 0.3 else ""
        if elder is not None and namesake is not None:  # after the draws: streams stay aligned
            original = elder.original_name
            if namesake[1] == SAME_ADDRESS:
                street, complement = elder.street, elder.complement
                zipcode, city = elder.zipcode, elder.city
            elif namesake[1] == SAME_CITY:
                zipcode, city = elder.zipcode, elder.city
                if street.replace(",", "") == elder.street.replace(",", ""):
                    street = f"{number % 180 + 1}{suffix}{comma} {street_name}"
            elif city == elder.city:
                zipcode, city = next((z, c) for z, c in self._cities if c != elder.city)
        if level == _CARD:
            return Card(index, family, original, first, birth, street, complement, zipcode, city)
        domain = choice(vocab.EMAIL_DOMAINS)
        if level == _CORE:  # the same draws as below, without the strings
            if not minor:
                randint(rng.getrandbits, 10, 99)
            rnd()
            email = ""
        else:
            login = vocab.fold(first).lower().replace(" ", "")
            last = vocab.fold(family).lower().replace(" ", "").replace("'", "")
            if minor:
                email = f"parents.{last}@{domain}" if rnd() < 0.7 else ""
            else:
                email = choice(
                    [
                        f"{login}.{last}@{domain}",
                        f"{login}{last}{randint(rng.getrandbits, 10, 99)}@{domain}",
                        f"{login}_{last}@{domain}",
                        "",
                    ]
                )
        student = 18 <= age <= 25 and rnd() < 0.6
        if student:
            job = choice(vocab.JOBS_STUDENT)
        elif age >= 65:
            job = choice(vocab.JOBS_RETIRED)
        elif age >= 12 and minor:
            job = choice(vocab.JOBS_CHILD)
        elif minor:
            job = ""
        else:
            job = choice(vocab.JOBS_ADULT)
        if level == _CORE:
            traits = (FEMALE if sex == "F" else MALE if sex == "M" else 0) | (
                DISCOUNT if student or job == JOB_SEEKER else 0
            )
            return birth.toordinal(), traits
        pick = rnd
        return Patient(
            index=index,
            family_name=family,
            original_name=original,
            first_name=first,
            birth_date=birth,
            sex=sex,
            street=street,
            complement=complement,
            zipcode=zipcode,
            city=city,
            email=email,
            phone=_phone(rng, mobile=False) if pick() < 0.25 else "",
            mobile=_phone(rng, mobile=True) if pick() < 0.9 else "",
            job=job,
            hobbies=choice(vocab.HOBBIES),
            smoker=not minor and pick() < 0.2,
            laterality=choice(_LATERALITY),
            important_info=choice(vocab.IMPORTANT_INFO) if pick() < 0.08 else "",
            current_treatment=choice(vocab.TREATMENTS) if pick() < 0.4 else "",
            surgical_history=choice(vocab.SURGICAL) if pick() < 0.2 else "",
            medical_history=choice(vocab.MEDICAL) if pick() < 0.35 else "",
            family_history=choice(vocab.FAMILY) if pick() < 0.3 else "",
            trauma_history=choice(vocab.TRAUMA) if pick() < 0.15 else "",
            medical_reports=choice(vocab.REPORTS) if pick() < 0.1 else "",
            created=created,
            doctor=randint(rng.getrandbits, 1, vocab.DOCTORS) if pick() < 0.55 else None,
            student=student,
        )


def core_of(patient: Patient) -> tuple[int, int]:
    """`PatientFactory.core` of a full record."""
    sex = FEMALE if patient.sex == "F" else MALE if patient.sex == "M" else 0
    discount = DISCOUNT if patient.student or patient.job == JOB_SEEKER else 0
    return patient.birth_date.toordinal(), sex | discount
