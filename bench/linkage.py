"""python -m bench.linkage [--people 5000] [--seed 7] [--threshold 0.5]

A labelled record-linkage benchmark for the possible-duplicate search (SPEC 12, docs/matching.md).
People are generated, then a second list from "another source": a copy of most of them with realistic
damage in known proportions (a typo, a letter dropped or doubled, a nickname, accents, swapped day and
month, a date one digit off, a new surname, first and last swapped, a missing field, another street
spelling), plus different people who look alike (twins, a parent and child of the same name, common
names born the same year) and new people. Each record of the second list is searched against the first;
a flagged candidate is right if it is the same person. Precision and recall at the threshold are printed,
with the misses by kind of damage.
"""
from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, timedelta

from app.importer.duplicates import THRESHOLD, DuplicateIndex, Person

FIRST = ("Robert William James John Michael David Richard Thomas Charles Joseph Christopher Daniel Matthew "
         "Anthony Andrew Joshua Kenneth Steven Edward Patrick Elizabeth Margaret Patricia Jennifer Susan "
         "Jessica Sarah Karen Nancy Deborah Katherine Rebecca Samantha Victoria Catherine Emily Maria Ana "
         "José Luis Chloé Zoë Renée Ahmed Fatima Mohammed Wei Mei Hiroshi Yuki Priya Arjun Olga Ivan Sofia "
         "Lucas Noah Liam Olivia Emma Ava Mia Harper Ethan Mason Aiden Grace Lily Nora Zara Omar Leila").split()
LAST = ("Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
        "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark "
        "Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams "
        "Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Müller Schmidt Björk Løvgren O'Brien "
        "MacDonald Kowalski Nowak Novák Petrov Ivanova Tanaka Suzuki Kim Park Chen Wang Singh Patel Khan "
        "Okafor Mensah Haddad Cohen Levi Rossi Russo Ferrari Bianchi Dubois Lefèvre Moreau Fournier").split()
NICKNAME = {"Robert": "Bob", "William": "Bill", "James": "Jim", "John": "Jack", "Michael": "Mike", "David": "Dave",
            "Richard": "Rick", "Thomas": "Tom", "Charles": "Chuck", "Joseph": "Joe", "Christopher": "Chris",
            "Daniel": "Dan", "Matthew": "Matt", "Anthony": "Tony", "Andrew": "Andy", "Elizabeth": "Liz",
            "Margaret": "Peggy", "Patricia": "Trish", "Jennifer": "Jenny", "Susan": "Sue", "Katherine": "Kate",
            "Rebecca": "Becky", "Samantha": "Sam", "Victoria": "Vicky", "Kenneth": "Ken", "Steven": "Steve",
            "Edward": "Ted", "Patrick": "Pat", "Deborah": "Debbie", "Catherine": "Cathy"}
STREETS = ["Main", "Oak", "Maple", "Cedar", "Elm", "Washington", "Lake", "Hill", "Park", "Pine", "River", "Church"]
DAMAGE = ("typo", "dropped letter", "doubled letter", "nickname", "accents", "swapped day and month",
          "date one digit off", "new surname", "first and last swapped", "no date of birth", "no email",
          "another street spelling", "case")


@dataclass
class Record:
    first: str
    last: str
    born: date | None
    email: str
    phone: str
    postal: str
    street: str
    truth: int | None  # the first list's person this is, or None

    def person(self, **ids) -> Person:
        return Person(self.first, self.last, self.born, self.email.lower(), frozenset([self.phone]) if self.phone else frozenset(),
                      self.postal, self.street, name=f"{self.first} {self.last}", **ids)


def _person(rng: random.Random, n: int) -> Record:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    born = date(1930, 1, 1) + timedelta(days=rng.randrange(85 * 365))
    email = f"{first.lower()}.{last.lower()}{n}@{rng.choice(['mail.org', 'post.net', 'inbox.com'])}" if rng.random() < 0.8 else ""
    phone = f"+1617{rng.randrange(10**7):07d}" if rng.random() < 0.7 else ""
    postal = f"{rng.randrange(1000, 99999):05d}" if rng.random() < 0.9 else ""
    street = f"{rng.randrange(1, 999)} {rng.choice(STREETS)} Street"
    return Record(first, last, born, email, phone, postal, street, n)


def _typo(rng, text: str, how: str) -> str:
    if len(text) < 3:
        return text
    i = rng.randrange(1, len(text) - 1)
    if how == "typo":
        return text[:i] + rng.choice("aeiourstnl") + text[i + 1:]
    if how == "dropped letter":
        return text[:i] + text[i + 1:]
    return text[:i] + text[i] + text[i:]


def _damage(rng, r: Record, how: str) -> Record:
    if how in ("typo", "dropped letter", "doubled letter"):
        return replace(r, **{(part := rng.choice(["first", "last"])): _typo(rng, getattr(r, part), how)})
    if how == "nickname":
        return replace(r, first=NICKNAME.get(r.first, _typo(rng, r.first, "typo")))
    if how == "accents":
        plain = {"é": "e", "è": "e", "ë": "e", "ü": "u", "ö": "o", "ø": "o", "á": "a", "ó": "o"}
        return replace(r, first="".join(plain.get(c, c) for c in r.first) if r.first != r.first.encode("ascii", "ignore").decode()
                       else r.first.replace("e", "é", 1), last="".join(plain.get(c, c) for c in r.last))
    if how in ("swapped day and month", "date one digit off") and r.born is None:
        return r
    if how == "swapped day and month":  # a day over 12 cannot be swapped: that copy keeps its date
        return replace(r, born=r.born.replace(month=r.born.day, day=r.born.month) if r.born.day <= 12 else r.born)
    if how == "date one digit off":
        born = r.born
        if born.day % 10 not in (0, 9) and born.day < 28:
            return replace(r, born=born.replace(day=born.day + 1))
        return replace(r, born=born.replace(year=born.year + (1 if born.year % 10 != 9 else -1), day=min(born.day, 28)))
    if how == "new surname":
        return replace(r, last=rng.choice(LAST), phone="", postal="")
    if how == "first and last swapped":
        return replace(r, first=r.last, last=r.first)
    if how == "no date of birth":
        return replace(r, born=None)
    if how == "no email":
        return replace(r, email="")
    if how == "another street spelling":
        return replace(r, street=r.street.replace("Street", "St"))
    return replace(r, first=r.first.upper(), last=r.last.lower())


def generate(people: int, seed: int = 7) -> tuple[list[Record], list[tuple[Record, str]]]:
    """The first list, and the second: (record, what it is) with its truth on the record."""
    rng = random.Random(seed)
    first = [_person(rng, n) for n in range(people)]
    second: list[tuple[Record, str]] = []
    for r in first:
        if rng.random() < 0.7:  # copies, each with one or two kinds of damage
            kinds = rng.sample(DAMAGE, 2 if rng.random() < 0.3 else 1)
            copy = replace(r, email=r.email if rng.random() < 0.8 else "")
            for how in kinds:
                copy = _damage(rng, copy, how)
            second.append((copy, "+".join(kinds)))
    for r in rng.sample(first, people // 20):  # twins: same surname, birth, home; another first name and email
        twin = replace(r, first=rng.choice([f for f in FIRST if f != r.first and NICKNAME.get(f) != r.first]),
                       email="", truth=None)
        second.append((twin, "twin"))
    for r in rng.sample(first, people // 20):  # a parent or child of the same name, at the same home
        other = replace(r, born=r.born.replace(year=r.born.year + rng.choice([-1, 1]) * rng.randrange(20, 36)) if r.born.month != 2 or r.born.day < 29
                        else r.born.replace(year=r.born.year + 28, day=28), email="", truth=None)
        second.append((other, "parent or child"))
    for r in rng.sample(first, people // 20):  # a common name born the same year, nothing else shared
        other = _person(rng, people + len(second))
        second.append((replace(other, first=r.first, last=r.last, born=other.born.replace(year=r.born.year) if other.born.month != 2 else other.born,
                               truth=None), "same name, same year"))
    for n in range(people // 10):
        second.append((replace(_person(rng, 2 * people + n), truth=None), "new person"))
    rng.shuffle(second)
    return first, second


def evaluate(people: int = 5000, seed: int = 7, threshold: float = THRESHOLD) -> dict:
    first, second = generate(people, seed)
    index = DuplicateIndex(threshold)
    for r in first:
        index.add(r.person(participant_id=r.truth))
    started = time.perf_counter()
    right = wrong = 0
    missed, false = Counter(), Counter()
    for record, what in second:
        found = index.find(record.person(row=0))
        best = found[0].person.participant_id if found else None
        if record.truth is not None and best == record.truth:
            right += 1
        else:
            if best is not None:
                wrong += 1
                false[what] += 1
            if record.truth is not None:
                missed[what] += 1
    seconds = time.perf_counter() - started
    copies = sum(1 for record, _ in second if record.truth is not None)
    return {"people": people, "searched": len(second), "copies": copies, "right": right, "wrong": wrong,
            "precision": right / max(right + wrong, 1), "recall": right / max(copies, 1), "seconds": seconds,
            "missed": dict(missed.most_common()), "false": dict(false.most_common())}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.linkage", description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    args = parser.parse_args(argv)
    result = evaluate(args.people, args.seed, args.threshold)
    print(f"Command: python -m bench.linkage --people {args.people} --seed {args.seed} --threshold {args.threshold}")
    print(f"{result['searched']:,} records searched against {result['people']:,} people "
          f"({result['copies']:,} damaged copies) in {result['seconds']:.2f} s")
    print(f"precision {result['precision']:.3f}  recall {result['recall']:.3f}  "
          f"({result['right']:,} right, {result['wrong']:,} wrong, {result['copies'] - result['right']:,} copies missed)")
    print("missed, by damage:", result["missed"])
    print("wrongly flagged, by kind:", result["false"])


if __name__ == "__main__":
    main()
