"""The practice simulation: appointments, invoices and money, day by day.

`Practice.run()` yields, in chronological order, each new `Patient` (when first booked,
if the practice was asked for full records) and each `Exam` (examination = one
appointment) once its story is final: its LibreOsteo
status, its chain of invoices (cancelled, credit note, re-issued or replacement) and every
money movement. Everything a visit will ever do is decided when it happens; only invoice
cancellations (a few days later, needing new invoice ids) keep an exam pending, so the
reorder buffer holds a couple of weeks at most. Events dated after `end` never happen.

Namesakes living at one address (`people.housemate_of`) are never booked the same day nor
corrected the same evening, and the later one's first paid invoice of the credit-note
period is corrected a few days later (credit note, then a new invoice): the cases an
importer must tell apart without the examination link.

Money is in integer cents. `Invoice.money` lists the true money movements of a row:
the payment at closing, later payments (instalments), and refunds (negative) when the
invoice is cancelled. It is what the ground truth sums and what a ledger records.
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
from array import array
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import holidays

from osteo_analytics.synthetic import vocab
from osteo_analytics.synthetic.people import (
    DISCOUNT,
    MALE,
    SAME_ADDRESS,
    Patient,
    PatientFactory,
    Practitioner,
    core_of,
    housemate_of,
    namesake_of,
    randint,
)

T = TypeVar("T")
# 45-minute sessions, 14 a day: about 2,500 appointments per practitioner and year at
# scale 1, so a cabinet of two sees ~5,000 a year (DESIGN.md, "Scale").
SLOTS = [
    (8, 15),
    (9, 0),
    (9, 45),
    (10, 30),
    (11, 15),
    (12, 0),  # morning
    (13, 15),
    (14, 0),
    (14, 45),
    (15, 30),
    (16, 15),
    (17, 0),
    (17, 45),
    (18, 30),
]  # afternoon
MORNING_SLOTS = 6
SESSION = dt.timedelta(minutes=45)  # the invoice is issued when the session is closed
LATE_PAYMENT_TIME = dt.time(19, 20)
CANCEL_TIME = dt.time(19, 30)
REISSUE_TIME = dt.time(19, 33)
CORRECTION_DELAY = dt.timedelta(days=3)  # a namesake's forced correction (_plan_correction)

# Booking probability of a slot by month: August dip, September and January peaks.
SEASON = {
    1: 1.0,
    2: 0.95,
    3: 0.95,
    4: 0.9,
    5: 0.88,
    6: 0.92,
    7: 0.8,
    8: 0.5,
    9: 1.0,
    10: 0.96,
    11: 0.94,
    12: 0.85,
}
BASE_OCCUPANCY = 0.97
P_CANCELLED, P_NO_SHOW = 0.027, 0.017  # 4.4 % of appointments do not take place
P_FREE = 0.012  # done but not invoiced ("Séance offerte")
P_EMERGENCY = 0.06
P_NOT_PAID = 0.035  # issued "notpaid", paid later (or never)
P_CANCEL_INVOICE = 0.01
CLOSING_METHODS = (("cb", 0.55), ("cheque", 0.3), ("especes", 0.15))
LATE_METHODS = (("virement", 0.4), ("cb", 0.3), ("cheque", 0.25), ("especes", 0.05))
MIN_FEE, MAX_FEE = 4500, 9000


@dataclass(slots=True)
class Payment:
    """A money movement: received (> 0) or refunded (< 0), in cents, by true method."""

    paid_on: dt.date
    method: str  # cb | cheque | especes | virement
    amount: int


@dataclass(slots=True, eq=False)
class Invoice:
    """One LibreOsteo invoice row (invoice or credit note) in its final state."""

    id: int
    number: str
    issued: dt.datetime  # Europe/Paris wall-clock time
    amount: int  # cents, negative for a credit note
    kind: str  # invoice | creditnote
    status: int  # 1 waiting for payment, 2 paid, 3 canceled
    method: str | None  # true means of payment at closing; None = issued unpaid ("notpaid")
    practitioner: int
    late: list[Payment] = field(default_factory=list)  # LibreOsteo Paiment rows
    money: list[Payment] = field(default_factory=list)  # every true money movement
    canceled_by: Invoice | None = None
    replaces: Invoice | None = None


@dataclass(slots=True, eq=False)
class Exam:
    """One appointment as LibreOsteo records it (an examination), in its final state."""

    id: int
    patient: int  # patient index (PatientFactory.card / ledger_names give what to print)
    practitioner: int
    start: dt.datetime
    type: int  # 1 normal, 2 continuing, 3 return, 4 emergency
    outcome: str  # done | cancelled | no_show
    status: int  # 0 in progress, 1 invoiced unpaid, 2 invoiced paid, 3 not invoiced
    status_reason: str
    motif: str
    text_bits: int = -1  # the draw of the free-text fields (see `texts`); -1: none
    invoices: list[Invoice] = field(default_factory=list)  # the chain, in creation order
    pending: int = 0

    @property
    def texts(self) -> tuple[str, ...]:
        """The session's free-text fields (empty when it did not take place)."""
        return _texts(self.text_bits) if self.text_bits >= 0 else ()

    @property
    def live_invoice(self) -> Invoice | None:
        """The invoice that stands (LibreOsteo's `last_invoice`), if any."""
        for invoice in reversed(self.invoices):
            if invoice.kind == "invoice":
                return invoice if invoice.status != 3 else None
        return None


def adult_fee(year: int, practitioner: int) -> int:
    """Adult tariff in cents: +5 € every three years; associates charge 5 € less."""
    euros = min(75, max(50, 55 + 5 * ((year - 2016) // 3))) - (5 if practitioner else 0)
    return euros * 100


def fee(birth: int, traits: int, when: dt.date, practitioner: int, emergency: bool) -> int:
    """The fee of a session: adult, child, infant, student or job-seeker tariff (+ emergency).

    `birth` is the patient's birth day ordinal, `traits` their `people` trait bits.
    """
    base = adult_fee(when.year, practitioner)
    age_days = when.toordinal() - birth
    if age_days < 730:
        base -= 750
    elif age_days < 18 * 365:
        base -= 500
    elif traits & DISCOUNT:
        base -= 1000
    amount = max(MIN_FEE, base) + (1000 if emergency else 0)
    return min(MAX_FEE, amount)


class Practice:
    """A deterministic simulation of a shared osteopathy cabinet (see module docstring)."""

    def __init__(
        self,
        *,
        seed: int,
        start: dt.date,
        end: dt.date,
        practitioners: list[Practitioner],
        scale: float,
        patient_cap: int | None,
        records: bool = True,
    ) -> None:
        self.rng = random.Random(seed)
        self.start, self.end = start, end
        self.practitioners = practitioners
        self.scale = scale
        self.patient_cap = patient_cap
        self.factory = PatientFactory(seed)
        self.records = records  # yield full Patient records of new patients
        self.holidays = holidays.country_holidays("FR", years=range(start.year, end.year + 2))
        # Credit-note mode for the first 60 % of the period, replacement invoices after.
        self.replacement_from = start + (end - start) * 3 // 5
        self.number_width = max(4, len(str(int(3000 * len(practitioners) * scale))))
        self.created = array("i")  # patient index -> registration day (ordinal)
        self.birth = array("i")  # patient index -> birth day (ordinal)
        self.traits = bytearray()  # patient index -> people.FEMALE | MALE | DISCOUNT bits
        self.factory.register(self.created.__getitem__)
        self.known = [array("i") for _ in practitioners]  # patients of each practitioner
        self.due: list[list[tuple[int, int, int, int, str]]] = [[] for _ in practitioners]
        self.events: dict[int, list[tuple[Exam, Invoice, int, str | None]]] = {}
        self.next_exam = self.next_invoice = 1
        self.booked_today: set[int] = set()  # patients with an appointment today, any practitioner
        self.corrected: set[int] = set()  # namesakes whose forced correction is planned
        self.seq = 0
        self.year_seq: dict[int, int] = {}
        self.exam_count = 0

    # --- calendar ------------------------------------------------------------------------

    def is_open(self, day: dt.date) -> bool:
        """Weekdays that are not French public holidays nor the Christmas closure."""
        if day.weekday() >= 5 or day in self.holidays:
            return False
        return not (day.month == 12 and day.day >= 24)

    def on_vacation(self, p: int, day: dt.date) -> bool:
        """Three weeks in summer (titular in August, associates in July), one in winter."""
        week = day.isocalendar().week
        summer = (31, 32, 33) if p % 2 == 0 else (28, 29, 30)
        winter = 8 + p % 3
        return week in summer or week == winter

    def next_open(self, day: dt.date) -> dt.date:
        while not self.is_open(day):
            day += dt.timedelta(days=1)
        return day

    # --- main loop -----------------------------------------------------------------------

    def run(self) -> Iterator[Patient | Exam]:
        """Yield new patients and final exams in chronological (id) order."""
        buffer: deque[Exam] = deque()
        day = self.start
        while day <= self.end:
            yield from self._day(day, buffer)
            while buffer and buffer[0].pending == 0:
                yield buffer.popleft()
            day += dt.timedelta(days=1)
        for exam in buffer:  # cancellations planned after `end` never happen
            exam.pending = 0
            yield exam

    def _day(self, day: dt.date, buffer: deque[Exam]) -> list[Patient | Exam]:
        created: list[Patient | Exam] = []
        if self.is_open(day):
            self.booked_today.clear()
            bookings = []
            for p in range(len(self.practitioners)):
                if not self.on_vacation(p, day):
                    bookings.extend(self._book(p, day, created))
            bookings.sort(key=lambda b: (b[0], b[1]))  # by time, then practitioner: id order
            for slot, p, patient, kind, motif in bookings:
                exam = self._visit(day, slot, p, patient, kind, motif)
                buffer.append(exam)
        for exam, original, reissue, method in sorted(
            self.events.pop(day.toordinal(), []), key=lambda e: e[1].id
        ):
            self._cancel(day, exam, original, reissue, method)
        return created

    def _book(self, p: int, day: dt.date, created: list[Patient | Exam]) -> list[tuple]:
        """Fill the practitioner's slots of the day: due follow-ups first, then newcomers."""
        rng = self.rng
        schedule = self.practitioners[p].halfdays
        wd = day.weekday()
        occupancy = BASE_OCCUPANCY * SEASON[day.month] * self.scale
        today = day.toordinal()
        due = self.due[p]
        seen: set[int] = set()
        booked = self.booked_today
        bookings = []
        for s, slot in enumerate(SLOTS):
            if (wd, 0 if s < MORNING_SLOTS else 1) not in schedule:
                continue
            count = int(occupancy)
            if rng.random() < occupancy - count:
                count += 1
            for _ in range(count):
                if due and due[0][0] <= today:
                    _, _, index, kind, motif = heapq.heappop(due)
                    if index in seen or _housemate_booked(index, booked):
                        self._schedule(p, index, today + 1, kind, motif)  # come back tomorrow
                        continue
                elif self.known[p] and rng.random() < P_EMERGENCY:
                    index = self.known[p][randint(rng.getrandbits, 0, len(self.known[p]) - 1)]
                    kind, motif = 4, ""
                    if index in seen or _housemate_booked(index, booked):
                        continue
                elif self.patient_cap is None or len(self.created) < self.patient_cap:
                    index, kind, motif = len(self.created), 1, ""
                    if _housemate_booked(index, booked):
                        continue  # the newcomer comes another day
                    self._register(index, day, created)
                    self.known[p].append(index)
                elif self.known[p]:
                    index = self.known[p][randint(rng.getrandbits, 0, len(self.known[p]) - 1)]
                    kind, motif = 3, ""
                    if index in seen or _housemate_booked(index, booked):
                        continue
                else:
                    continue
                seen.add(index)
                booked.add(index)
                bookings.append((slot, p, index, kind, motif))
        return bookings

    def _register(self, index: int, day: dt.date, created: list[Patient | Exam]) -> None:
        """A new patient: keep their core; draw their full record if records are asked."""
        self.created.append(day.toordinal())
        if self.records:
            patient = self.factory.get(index, day)
            created.append(patient)
            birth, traits = core_of(patient)
        else:
            birth, traits = self.factory.core(index, day)
        self.birth.append(birth)
        self.traits.append(traits)

    def _schedule(self, p: int, index: int, on: int, kind: int, motif: str) -> None:
        self.seq += 1
        heapq.heappush(self.due[p], (on, self.seq, index, kind, motif))

    def _motif(self, index: int, day: dt.date, kind: int, motif: str) -> str:
        if motif:
            return motif
        rng = self.rng
        age = (day.toordinal() - self.birth[index]) / 365.25
        if kind == 4:
            return _choice(rng, vocab.MOTIFS_EMERGENCY)
        if age < 2:
            return _choice(rng, vocab.MOTIFS_INFANT)
        if age < 15 and rng.random() < 0.7:
            return _choice(rng, vocab.MOTIFS_CHILD)
        if not self.traits[index] & MALE and 22 <= age <= 40 and rng.random() < 0.12:
            return _choice(rng, vocab.MOTIFS_PREGNANCY)
        return _choice(rng, vocab.MOTIFS_ADULT)

    def _visit(
        self, day: dt.date, slot: tuple[int, int], p: int, index: int, kind: int, motif: str
    ) -> Exam:
        rng = self.rng
        motif = self._motif(index, day, kind, motif)
        start = dt.datetime(day.year, day.month, day.day, *slot)
        today = day.toordinal()
        u = rng.random()
        outcome = (
            "cancelled" if u < P_CANCELLED else "no_show" if u < P_CANCELLED + P_NO_SHOW else "done"
        )
        exam = Exam(self.next_exam, index, p, start, kind, outcome, 3, "", motif)
        self.next_exam += 1
        self.exam_count += 1
        if outcome == "cancelled":
            exam.status_reason = _choice(rng, vocab.REASONS_CANCELLED)
            self._schedule(
                p, index, today + randint(rng.getrandbits, 2, 12), kind, motif if kind == 2 else ""
            )
            return exam
        if outcome == "no_show":
            exam.status_reason = _choice(rng, vocab.REASONS_NO_SHOW)
            if rng.random() < 0.5:
                self._schedule(
                    p,
                    index,
                    today + randint(rng.getrandbits, 3, 20),
                    kind,
                    motif if kind == 2 else "",
                )
            return exam
        exam.text_bits = rng.getrandbits(64)
        # What comes next for this patient: a follow-up, a return months later, or nothing.
        base = motif.removeprefix("Suite : ")
        if rng.random() < (0.3 if kind == 2 else 0.55):
            self._schedule(p, index, today + randint(rng.getrandbits, 14, 42), 2, "Suite : " + base)
        elif rng.random() < 0.5:
            self._schedule(p, index, today + randint(rng.getrandbits, 90, 540), 3, "")
        if day >= self.end - dt.timedelta(days=1) and rng.random() < 0.3:
            exam.status = 0  # still open in LibreOsteo on the export day: done, not invoiced
        elif rng.random() < P_FREE:
            exam.status_reason = _choice(rng, vocab.REASONS_FREE)
        else:
            fee_cents = fee(self.birth[index], self.traits[index], day, p, kind == 4)
            self._close(exam, start + SESSION, fee_cents)
        return exam

    def _number(self, year: int) -> str:
        n = self.year_seq.get(year, 0) + 1
        self.year_seq[year] = n
        return f"{year % 100:02d}{n:0{self.number_width}d}"

    def _invoice(
        self, exam: Exam, when: dt.datetime, amount: int, kind: str, method: str | None, status: int
    ) -> Invoice:
        invoice = Invoice(
            self.next_invoice,
            self._number(when.year),
            when,
            amount,
            kind,
            status,
            method,
            exam.practitioner,
        )
        self.next_invoice += 1
        exam.invoices.append(invoice)
        return invoice

    def _close(self, exam: Exam, when: dt.datetime, amount: int) -> None:
        """Invoice the session: paid at once (usually), or issued unpaid and paid later."""
        rng = self.rng
        if rng.random() >= P_NOT_PAID:
            method = _pick(rng, CLOSING_METHODS)
            invoice = self._invoice(exam, when, amount, "invoice", method, 2)
            invoice.money.append(Payment(when.date(), method, amount))
            exam.status = 2
            if rng.random() < P_CANCEL_INVOICE:
                self._plan_cancel(exam, invoice)
            elif self._wants_correction(exam):
                self._plan_correction(exam, invoice)
            return
        invoice = self._invoice(exam, when, amount, "invoice", None, 1)
        exam.status = 1
        u = rng.random()
        if u < 0.15:
            return  # never paid
        day = when.date()
        if u < 0.3:  # two instalments: a part now-ish, the rest weeks later
            first = amount // 2 // 500 * 500 or amount // 2
            plan = [
                (randint(rng.getrandbits, 3, 20), first),
                (randint(rng.getrandbits, 25, 60), amount - first),
            ]
        else:
            plan = [(randint(rng.getrandbits, 2, 45), amount)]
        paid = 0
        for delay, part in plan:
            on = _weekday(day + dt.timedelta(days=delay))
            if on > self.end:
                break
            payment = Payment(on, _pick(rng, LATE_METHODS), part)
            invoice.late.append(payment)
            invoice.money.append(payment)
            paid += part
        if paid == amount:
            invoice.status = exam.status = 2

    def _plan_cancel(self, exam: Exam, original: Invoice) -> None:
        """Cancel a paid invoice a few days later: corrected amount or means of payment."""
        rng = self.rng
        on = self._cancel_day(
            exam.patient, original.issued.date() + dt.timedelta(days=_choice(rng, [0, 1, 2, 5, 9]))
        )
        if on > self.end:
            return
        u = rng.random()
        if u < 0.2:
            new_amount = -1  # credit note, not re-issued (in credit-note mode)
        elif u < 0.6:
            new_amount = (
                original.amount - 1000
                if original.amount - 1000 >= MIN_FEE
                else original.amount + 500
            )
        else:
            new_amount = original.amount
        method = (
            _pick(rng, CLOSING_METHODS)
            if new_amount != original.amount
            else next(m for m, _ in CLOSING_METHODS if m != original.method)
        )
        exam.pending += 1
        self.events.setdefault(on.toordinal(), []).append((exam, original, new_amount, method))

    def _cancel_day(self, patient: int, day: dt.date) -> dt.date:
        """The open day from `day` on when no cancellation of the patient's housemate is planned.

        Two namesakes at one address corrected the same evening would leave two credit notes
        with the same snapshot at 19:30: nothing in the invoices could tell whose is whose.
        """
        on = self.next_open(day)
        mate = housemate_of(patient)
        while mate is not None and any(
            e[0].patient == mate for e in self.events.get(on.toordinal(), ())
        ):
            on = self.next_open(on + dt.timedelta(days=1))
        return on

    def _wants_correction(self, exam: Exam) -> bool:
        """A same-address namesake's first paid invoice is corrected (once, credit-note mode)."""
        namesake = namesake_of(exam.patient)
        if namesake is None or namesake[1] != SAME_ADDRESS or exam.patient in self.corrected:
            return False
        return self._cancel_day(exam.patient, exam.start.date() + CORRECTION_DELAY) < (
            self.replacement_from
        )

    def _plan_correction(self, exam: Exam, original: Invoice) -> None:
        """Credit note then corrected invoice (10 € less) a few days later, without drawing.

        Whoever reads only the invoices then meets an invoice of a namesake issued at 19:33,
        when no session is open: only the credit note just before tells whose it is.
        """
        self.corrected.add(exam.patient)
        on = self._cancel_day(exam.patient, exam.start.date() + CORRECTION_DELAY)
        amount = (
            original.amount - 1000 if original.amount - 1000 >= MIN_FEE else original.amount + 500
        )
        exam.pending += 1
        self.events.setdefault(on.toordinal(), []).append((exam, original, amount, original.method))

    def _cancel(
        self, day: dt.date, exam: Exam, original: Invoice, new_amount: int, method: str | None
    ) -> None:
        exam.pending -= 1
        cancel_at = dt.datetime.combine(day, CANCEL_TIME)
        original.status = 3
        assert original.method is not None
        refund = Payment(day, original.method, -original.amount)
        if day >= self.replacement_from:  # replacement mode: the new invoice cancels the old
            original.money.append(refund)
            amount = original.amount if new_amount < 0 else new_amount
            assert method is not None
            new = self._invoice(exam, cancel_at, amount, "invoice", method, 2)
            new.replaces = original
            new.money.append(Payment(day, method, amount))
            original.canceled_by = new
            return
        credit = self._invoice(exam, cancel_at, -original.amount, "creditnote", original.method, 2)
        credit.money.append(refund)
        original.canceled_by = credit
        if new_amount >= 0 and method is not None:
            new = self._invoice(
                exam, dt.datetime.combine(day, REISSUE_TIME), new_amount, "invoice", method, 2
            )
            new.money.append(Payment(day, method, new_amount))


_TEXT_POOLS = (
    vocab.REASON_DESCRIPTIONS,
    vocab.ORL,
    vocab.VISCERAL,
    vocab.PULMO,
    vocab.URO,
    vocab.PERIPHERY,
    vocab.GENERAL,
    vocab.EXAMS,
    vocab.DIAGNOSES,
    vocab.TREATMENT_TEXTS,
    vocab.CONCLUSIONS,
)


def _choice(rng: random.Random, pool: Sequence[T]) -> T:
    # random() and a multiply: a third of the cost of Random.choice, same uniformity for us.
    return pool[int(rng.random() * len(pool))]


_TEXT_SIZES = tuple((pool, len(pool)) for pool in _TEXT_POOLS)


def _texts(bits: int) -> tuple[str, ...]:
    """The free-text fields of a session from one 64-bit draw (one RNG call, not eleven)."""
    texts: list[str] = []
    append = texts.append
    for pool, size in _TEXT_SIZES:
        bits, index = divmod(bits, size)
        append(pool[index])
    return tuple(texts)


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    u = rng.random()
    for value, weight in weighted:
        u -= weight
        if u < 0:
            return value
    return weighted[-1][0]


def _housemate_booked(index: int, booked: set[int]) -> bool:
    """Namesakes living together never come the same day (see people.housemate_of)."""
    mate = housemate_of(index)
    return mate is not None and mate in booked


def _weekday(day: dt.date) -> dt.date:
    """Money arrives on weekdays: a weekend date moves to the Monday."""
    wd = day.weekday()
    return day + dt.timedelta(days=7 - wd) if wd >= 5 else day
