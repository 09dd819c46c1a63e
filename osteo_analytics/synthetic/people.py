"""The people of the synthetic practice: the office, its practitioners and its patients.

A patient is a pure function of (seed, patient index, registration day), so the simulation
keeps only small integers per patient and rebuilds a record when it needs one (with a
bounded cache): memory does not grow with the size of the patient base. Identities are
unique by construction (see `_identity`): no two patients share a folded "NOM Prénom", so
name-based matching in an importer is exact.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from . import vocab

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
        """How a hand-kept ledger names the patient: 'NOM Prénom'."""
        return f"{self.family_name.upper()} {self.first_name}"


# Female patients are 11 in 20 (by index), so identity is a pure function of the index.
_FEMALE_PER_20 = 11


def _identity(index: int) -> tuple[str, str, bool]:
    """Family name, first name and sex for a patient index; injective by construction."""
    block, bucket = divmod(index, 20)
    female = bucket < _FEMALE_PER_20
    if female:
        k, firsts = block * _FEMALE_PER_20 + bucket, vocab.FEMALE_FIRST
    else:
        k, firsts = block * (20 - _FEMALE_PER_20) + bucket - _FEMALE_PER_20, vocab.MALE_FIRST
    families = vocab.FAMILY_NAMES
    q, r = divmod(k, len(families))
    level, j = divmod(q, len(firsts))
    family = families[r]
    if level:  # past every (family, first) pair: compound family names, still unique
        family = f"{family}-{families[(r + level) % len(families)]}"
    return lo_family(family), lo_first(firsts[(j + r) % len(firsts)]), female


def _age_days(rng: random.Random) -> int:
    """Age at the first visit, in days: infants, children, students, adults, elderly."""
    u = rng.random()
    if u < 0.06:
        return rng.randint(12, 700)  # infant (< 2 years)
    bands = [
        (0.14, 2, 11),
        (0.20, 12, 17),
        (0.30, 18, 25),
        (0.80, 26, 64),
        (0.91, 65, 74),
        (1.0, 75, 96),
    ]
    for limit, low, high in bands:
        if u < limit:
            return rng.randint(low * 365 + 30, high * 365 + 330)
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


class PatientFactory:
    """Builds patient records on demand from (seed, index, registration day), with a cache."""

    def __init__(self, seed: int, cache_size: int = 1 << 15) -> None:
        self._seed = seed
        self._streets = vocab.street_names(seed)
        self._cities = [(z, c) for z, c, _ in vocab.CITIES]
        self._city_weights = list(itertools.accumulate(w for _, _, w in vocab.CITIES))
        self._cache: OrderedDict[int, Patient] = OrderedDict()
        self._cache_size = cache_size

    def get(self, index: int, created: dt.date) -> Patient:
        """The patient with this index, registered on `created` (same args, same record)."""
        record = self._cache.get(index)
        if record is not None:
            self._cache.move_to_end(index)
            return record
        record = self._build(index, created)
        self._cache[index] = record
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return record

    def _build(self, index: int, created: dt.date) -> Patient:
        rng = random.Random(self._seed * 1_000_003 + index)
        rnd = rng.random

        def choice(pool: Sequence[str]) -> str:  # a third of the cost of Random.choice
            return pool[int(rnd() * len(pool))]

        family, first, female = _identity(index)
        birth = created - dt.timedelta(days=_age_days(rng))
        age = (created - birth).days // 365
        minor = age < 18
        original = ""
        if female and age >= 25 and rng.random() < 0.3:
            original = lo_family(choice(vocab.FAMILY_NAMES))
        sex = ("F" if female else "M") if rng.random() > 0.06 else ""
        zipcode, city = rng.choices(self._cities, cum_weights=self._city_weights)[0]
        number = rng.randint(1, 180)
        suffix = choice(["", "", "", " bis", " ter"])
        comma = "," if rng.random() < 0.25 else ""
        street = f"{number}{suffix}{comma} {choice(self._streets)}"
        complement = choice(vocab.ADDRESS_COMPLEMENTS) if rng.random() < 0.3 else ""
        login = vocab.fold(first).lower().replace(" ", "")
        last = vocab.fold(family).lower().replace(" ", "").replace("'", "")
        domain = choice(vocab.EMAIL_DOMAINS)
        if minor:
            email = f"parents.{last}@{domain}" if rng.random() < 0.7 else ""
        else:
            email = choice(
                [
                    f"{login}.{last}@{domain}",
                    f"{login}{last}{rng.randint(10, 99)}@{domain}",
                    f"{login}_{last}@{domain}",
                    "",
                ]
            )
        student = 18 <= age <= 25 and rng.random() < 0.6
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
        pick = rng.random
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
            laterality=choice(["R", "R", "R", "R", "L", ""]),
            important_info=choice(vocab.IMPORTANT_INFO) if pick() < 0.08 else "",
            current_treatment=choice(vocab.TREATMENTS) if pick() < 0.4 else "",
            surgical_history=choice(vocab.SURGICAL) if pick() < 0.2 else "",
            medical_history=choice(vocab.MEDICAL) if pick() < 0.35 else "",
            family_history=choice(vocab.FAMILY) if pick() < 0.3 else "",
            trauma_history=choice(vocab.TRAUMA) if pick() < 0.15 else "",
            medical_reports=choice(vocab.REPORTS) if pick() < 0.1 else "",
            created=created,
            doctor=rng.randint(1, vocab.DOCTORS) if pick() < 0.55 else None,
            student=student,
        )
