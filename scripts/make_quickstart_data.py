#!/usr/bin/env python3
"""Generates heed's two small quickstart data sets (python3 standard library only).

  data/dates/{train,dev,test}.{src,tgt}   human-written dates -> ISO dates (translation)
  data/reviews/{train,dev,test}.tsv        short synthetic reviews -> positive/negative

Both are deterministic for a given --seed, and both are checked while they are generated: every
date string is parsed back by an independent reference parser, and every review is labelled
again by an independent reference labeller; a mismatch aborts. So each task is exactly solvable
from its input, and a good model can approach 100 %.

Usage: python3 scripts/make_quickstart_data.py [--out data] [--seed 20240601]
"""

import argparse
import calendar
import datetime
import os
import random
import re
import sys

# ----------------------------------------------------------------------------------------------
# Dates
#
# Dates run from 1950-01-01 to 2049-12-31, so a two-digit year is never ambiguous:
# 50..99 -> 1950..1999, 00..49 -> 2000..2049. Every format fixes the order of day, month and year
# by its shape: "/" with the year last is US (month/day/year), "/" with the year first is
# year/month/day, "." is day.month.year, and month names are spelled out or abbreviated.

FIRST_DATE = datetime.date(1950, 1, 1)
LAST_DATE = datetime.date(2049, 12, 31)

MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december"]
MONTHS_SHORT = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS_SHORT = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def ordinal(n):
    """1 -> 1st, 2 -> 2nd, 3 -> 3rd, 11 -> 11th, 22 -> 22nd."""
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def date_fields(d):
    """The pieces a format is built from."""
    return {
        "d": str(d.day), "dd": f"{d.day:02d}", "dth": ordinal(d.day),
        "m": str(d.month), "mm": f"{d.month:02d}",
        "month": MONTHS[d.month - 1], "mon": MONTHS_SHORT[d.month - 1],
        "yyyy": str(d.year), "yy": f"{d.year % 100:02d}",
        "wd": WEEKDAYS[d.weekday()], "wdshort": WEEKDAYS_SHORT[d.weekday()],
    }


# Each format: a str.format template over date_fields(). Weekdays always match the date.
DATE_FORMATS = [
    "{wd}, {d} {month} {yyyy}",            # saturday, 14 march 1998
    "{m}/{d}/{yy}",                        # 3/14/98
    "{mm}/{dd}/{yyyy}",                    # 03/14/1998
    "{month} {dth}, {yyyy}",               # march 14th, 1998
    "{dd}.{mm}.{yyyy}",                    # 14.03.1998
    "{d}.{m}.{yy}",                        # 14.3.98
    "the {dth} of {month} {yyyy}",         # the 14th of march 1998
    "{mon} {d} {yy}",                      # mar 14 98
    "{d} {mon} {yyyy}",                    # 14 mar 1998
    "{wdshort}, {d} {mon} {yyyy}",         # sat, 14 mar 1998
    "{wd}, {month} {d}, {yyyy}",           # saturday, march 14, 1998
    "{yyyy}/{mm}/{dd}",                    # 1998/03/14
    "{dd}-{mon}-{yyyy}",                   # 14-mar-1998
    "{month} {d} {yyyy}",                  # march 14 1998
    "{dth} {month} {yy}",                  # 14th march 98
    "{d} {month}, {yyyy}",                 # 14 march, 1998
    "{mon}. {d}, {yyyy}",                  # mar. 14, 1998
    "{month} {dth} '{yy}",                 # march 14th '98
    "{wd} the {dth} of {month}, {yyyy}",   # saturday the 14th of march, 1998
    "{dth} of {month} {yyyy}",             # 14th of march 1998
    "{mon} {dth}, {yyyy}",                 # mar 14th, 1998
    "{wdshort} {mon} {d} {yyyy}",          # sat mar 14 1998
    "{yyyy}-{mm}-{dd}",                    # 1998-03-14 (already ISO)
    "{d} {month} {yyyy}",                  # 14 march 1998
]

CASINGS = ["lower", "lower", "title", "upper"]  # lower case twice as often


def apply_casing(text, casing):
    if casing == "title":
        # "march 14th" -> "March 14th" (not "14Th": only words that start with a letter).
        return re.sub(r"\b([a-z])", lambda m: m.group(1).upper(), text)
    return text.upper() if casing == "upper" else text


def render_date(d, rng):
    fmt = rng.choice(DATE_FORMATS)
    return apply_casing(fmt.format(**date_fields(d)), rng.choice(CASINGS))


def is_leap(year):
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year, month):
    return [31, 29 if is_leap(year) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]


def parse_date(text):
    """Reference parser, written independently of the formats: reads any generated string back
    to (year, month, day) and checks it is a real date whose weekday (if given) is right."""
    s = text.lower()
    weekday = None
    month = None
    for i, name in enumerate(WEEKDAYS):
        if re.search(rf"\b({name}|{WEEKDAYS_SHORT[i]})\b", s):
            weekday = i
            s = re.sub(rf"\b({name}|{WEEKDAYS_SHORT[i]})\b", " ", s)
    for i, name in enumerate(MONTHS):
        if re.search(rf"\b({name}|{MONTHS_SHORT[i]})\b", s):
            month = i + 1
            s = re.sub(rf"\b({name}|{MONTHS_SHORT[i]})\b", " ", s)
    s = re.sub(r"\b(the|of)\b|(?<=\d)(st|nd|rd|th)\b", " ", s)
    numbers = re.findall(r"\d+", s)

    def full_year(token):
        if len(token) == 4:
            return int(token)
        assert len(token) == 2, text
        return (1900 if int(token) >= 50 else 2000) + int(token)

    if month is not None:                      # a month name: the day comes before the year
        assert len(numbers) == 2, text
        day, year = int(numbers[0]), full_year(numbers[1])
    elif "." in s:                             # day.month.year
        day, month, year = int(numbers[0]), int(numbers[1]), full_year(numbers[2])
    elif re.match(r"\s*\d{4}[/-]", s):         # year/month/day, year-month-day
        year, month, day = (int(x) for x in numbers)
    elif "/" in s:                             # US: month/day/year
        month, day, year = int(numbers[0]), int(numbers[1]), full_year(numbers[2])
    else:
        raise AssertionError(f"unparsed date: {text!r}")
    assert 1 <= month <= 12 and 1 <= day <= days_in_month(year, month), text
    assert days_in_month(year, month) == calendar.monthrange(year, month)[1]  # leap years
    if weekday is not None:
        assert calendar.weekday(year, month, day) == weekday, f"wrong weekday: {text!r}"
    return year, month, day


def make_dates(rng, sizes):
    span = (LAST_DATE - FIRST_DATE).days + 1
    seen = set()
    examples = []
    total = sum(sizes.values())
    while len(examples) < total:
        d = FIRST_DATE + datetime.timedelta(days=rng.randrange(span))
        source = render_date(d, rng)
        if source in seen:
            continue  # no source string twice, so none is shared between splits
        seen.add(source)
        target = d.isoformat()
        assert "%04d-%02d-%02d" % parse_date(source) == target, (source, target)
        examples.append((source, target))
    return split(examples, sizes)


# ----------------------------------------------------------------------------------------------
# Reviews
#
# The label comes from these rules, applied to the words of the review:
#   1. If the review contains "but", only the part after the last "but" counts.
#   2. In that part, each clause has one sentiment word (an adjective such as "great"/"terrible",
#      a verb such as "loved"/"hated", or "recommend"), whose polarity is the clause's polarity...
#   3. ...flipped if the clause contains a negator: not, n't, never, hardly.
#   4. Intensifiers (very, absolutely, ...) and everything else (topics, filler, an opening
#      sentence about the visit) do not change the label. Clauses joined by "and" agree.

POSITIVE_GRADABLE = ["good", "nice", "pleasant", "friendly", "enjoyable", "impressive", "tasty",
                     "charming", "fun"]
POSITIVE_EXTREME = ["great", "excellent", "amazing", "wonderful", "fantastic", "superb",
                    "brilliant", "outstanding", "delightful", "lovely"]
NEGATIVE_GRADABLE = ["bad", "poor", "disappointing", "boring", "unpleasant", "rude", "dull",
                     "bland", "annoying", "mediocre"]
NEGATIVE_EXTREME = ["terrible", "awful", "horrible", "dreadful", "atrocious", "disgusting"]
INTENSIFIERS_GRADABLE = ["very", "really", "extremely", "quite", "so", "incredibly"]
INTENSIFIERS_EXTREME = ["absolutely", "truly", "totally", "really"]

# Adjectives that only suit some domains ("the battery was rude" would be odd).
ADJECTIVE_DOMAINS = {"tasty": {"restaurant"}, "bland": {"restaurant"},
                     "disgusting": {"restaurant", "hotel"}, "rude": {"restaurant", "hotel"},
                     "friendly": {"restaurant", "hotel"}, "boring": {"movie"},
                     "fun": {"movie", "product"}, "charming": {"movie", "hotel", "restaurant"}}
POSITIVE_VERBS = {"loved": "love", "liked": "like", "enjoyed": "enjoy", "adored": "adore"}
NEGATIVE_VERBS = {"hated": "hate", "disliked": "dislike", "detested": "detest"}
VERB_INTENSIFIERS = ["really", "absolutely", "truly"]

POSITIVE_WORDS = set(POSITIVE_GRADABLE + POSITIVE_EXTREME + ["recommend"]) | \
    set(POSITIVE_VERBS) | set(POSITIVE_VERBS.values())
NEGATIVE_WORDS = set(NEGATIVE_GRADABLE + NEGATIVE_EXTREME) | \
    set(NEGATIVE_VERBS) | set(NEGATIVE_VERBS.values())
NEGATORS = {"not", "never", "hardly"}  # plus any word ending in n't

# (subject as written, plural?) per domain; bare nouns for "absolutely terrible service".
TOPICS = {
    "restaurant": [("the food", False), ("the service", False), ("the staff", False),
                   ("the pasta", False), ("the dessert", False), ("the soup", False),
                   ("the coffee", False), ("the waiter", False), ("the atmosphere", False),
                   ("the music", False), ("the portions", True), ("the prices", True),
                   ("the menu", False), ("the fries", True), ("the wine", False)],
    "movie": [("the movie", False), ("the film", False), ("the plot", False),
              ("the acting", False), ("the soundtrack", False), ("the ending", False),
              ("the dialogue", False), ("the special effects", True),
              ("the characters", True), ("the script", False), ("the cast", False),
              ("the first half", False)],
    "hotel": [("the room", False), ("the bed", False), ("the view", False),
              ("the breakfast", False), ("the pool", False), ("the location", False),
              ("the reception", False), ("the hotel", False), ("the bathroom", False),
              ("the rooms", True)],
    "product": [("the phone", False), ("the battery", False), ("the screen", False),
                ("the camera", False), ("the delivery", False), ("the packaging", False),
                ("the headphones", True), ("the sound", False), ("the instructions", True)],
}
BARE_TOPICS = {
    "restaurant": ["food", "service", "coffee", "pizza", "desserts", "wine", "value"],
    "movie": ["acting", "writing", "music", "effects", "storytelling"],
    "hotel": ["rooms", "service", "breakfast", "views", "value"],
    "product": ["sound", "quality", "design", "battery life", "value"],
}
THINGS = {  # what one recommends, or calls "a ... movie"
    "restaurant": ["this place", "this restaurant", "the pasta", "this cafe"],
    "movie": ["this movie", "this film", "the sequel", "this show"],
    "hotel": ["this hotel", "this place", "the suite"],
    "product": ["this phone", "these headphones", "this brand", "this product"],
}
NOUNS = {"restaurant": ["meal", "restaurant", "evening", "place", "dinner"],
         "movie": ["movie", "film", "story", "evening", "show"],
         "hotel": ["hotel", "stay", "room", "place", "experience"],
         "product": ["phone", "product", "purchase", "experience", "device"]}
OPENINGS = {  # neutral first sentences: no sentiment word, negator or "but"
    "restaurant": ["we went there on a saturday.", "we came here for lunch.",
                   "i ordered the pasta and a coffee.", "it is close to the station.",
                   "we booked a table for four.", "we went there with my parents."],
    "movie": ["i watched it on a sunday.", "we saw it at the cinema.",
              "it is about two brothers.", "i watched it with my family.",
              "it runs for two hours."],
    "hotel": ["we stayed for three nights.", "we stayed there in july.",
              "it is near the beach.", "we booked it through a friend."],
    "product": ["i bought it last month.", "it arrived on monday.",
                "i use it every day.", "it came in a blue box."],
}
PREFIXES = ["", "", "", "", "honestly, ", "to be honest, ", "overall, ", "well, ", "so, ",
            "in my opinion, ", "i have to say "]
SUFFIXES = ["", "", "", "", " if you ask me", " in my opinion", " to be honest", " for sure",
            " for me", " honestly"]
ENDINGS = ["", ".", ".", "!"]


def article(word):
    return "an" if word[0] in "aeiou" else "a"


def be(plural, rng):
    return rng.choice(["were", "are"] if plural else ["was", "is"])


def negated_be(verb, rng):
    """'was' -> 'was not' / "wasn't" / 'was never' / 'was hardly'."""
    return rng.choice([f"{verb} not", f"{verb}n't", f"{verb} never", f"{verb} hardly"])


def adjective(domain, polarity, rng):
    """(adjective, intensifier or '') of the given polarity (+1/-1) that suits the domain."""
    extreme = rng.random() < 0.5
    if polarity > 0:
        words = POSITIVE_EXTREME if extreme else POSITIVE_GRADABLE
    else:
        words = NEGATIVE_EXTREME if extreme else NEGATIVE_GRADABLE
    word = rng.choice([w for w in words if domain in ADJECTIVE_DOMAINS.get(w, {domain})])
    intensifier = ""
    if rng.random() < 0.4:
        intensifier = rng.choice(INTENSIFIERS_EXTREME if extreme else INTENSIFIERS_GRADABLE)
    return word, intensifier


def clause(domain, polarity, rng, allow_opinion=True):
    """One clause whose label is `polarity`; the sentiment word's own polarity and a negation are
    chosen so that word polarity x (-1 if negated) == polarity."""
    negated = rng.random() < 0.4
    word_polarity = -polarity if negated else polarity
    kinds = ["copula", "copula", "copula", "noun_phrase", "verb", "recommend"]
    if allow_opinion:
        kinds += ["opinion"]
    kind = rng.choice(kinds)
    subject, plural = rng.choice(TOPICS[domain])

    if kind == "copula":      # the food was (not) (very) good (at all)
        adj, intensifier = adjective(domain, word_polarity, rng)
        verb = be(plural, rng)
        if not negated:
            return f"{subject} {verb} {intensifier + ' ' if intensifier else ''}{adj}"
        if rng.random() < 0.2:
            return f"{subject} {verb} not at all {adj}"
        neg = negated_be(verb, rng)
        if not neg.endswith(("not", "n't")):  # "was never good", "was hardly impressive"
            return f"{subject} {neg} {adj}"
        at_all = " at all" if not intensifier and rng.random() < 0.4 else ""
        return f"{subject} {neg} {intensifier + ' ' if intensifier else ''}{adj}{at_all}"

    if kind == "noun_phrase":  # absolutely terrible service / not a good movie
        adj, intensifier = adjective(domain, word_polarity, rng)
        if negated:
            noun = rng.choice(NOUNS[domain])
            return f"not {article(adj)} {adj} {noun}"
        bare = rng.choice(BARE_TOPICS[domain])
        return f"{intensifier + ' ' if intensifier else ''}{adj} {bare}"

    if kind == "verb":         # i (really) loved the ending / we didn't like the food
        person = rng.choice(["i", "we"])
        verbs = POSITIVE_VERBS if word_polarity > 0 else NEGATIVE_VERBS
        verb = rng.choice(sorted(verbs))
        if negated:
            neg = rng.choice(["did not", "didn't", "never"])
            return f"{person} {neg} {verb if neg == 'never' else verbs[verb]} {subject}"
        intensifier = rng.choice(VERB_INTENSIFIERS) + " " if rng.random() < 0.3 else ""
        return f"{person} {intensifier}{verb} {subject}"

    if kind == "recommend":    # i would (highly / not / never) recommend this place
        thing = rng.choice(THINGS[domain])
        if polarity < 0:  # "recommend" has no negative counterpart: negative means negated
            neg = rng.choice(["would not", "wouldn't", "would never", "can't", "could not"])
            return f"i {neg} recommend {thing}"
        return f"i would {rng.choice(['', 'highly ', 'definitely '])}recommend {thing}"

    # opinion: i would not say the food was great / i don't think the plot was boring
    adj, intensifier = adjective(domain, word_polarity, rng)
    verb = be(plural, rng)
    inner = f"{subject} {verb} {intensifier + ' ' if intensifier else ''}{adj}"
    if negated:
        lead = rng.choice(["i would not say", "i wouldn't say", "i don't think", "i do not think",
                           "i would never say"])
    else:
        lead = rng.choice(["i would say", "i think", "i must say", "i felt that"])
    return f"{lead} {inner}"


def make_review(rng, label):
    domain = rng.choice(sorted(TOPICS))
    shape = rng.random()
    if shape < 0.40:            # one clause
        text = clause(domain, label, rng)
    elif shape < 0.75:          # X but Y: Y decides
        text = f"{clause(domain, -label, rng)} but {clause(domain, label, rng)}"
    elif shape < 0.90:          # X and Y, same polarity
        text = f"{clause(domain, label, rng, False)} and {clause(domain, label, rng, False)}"
    else:                       # X and Y, but Z
        text = (f"{clause(domain, -label, rng, False)} and {clause(domain, -label, rng, False)}, "
                f"but {clause(domain, label, rng)}")
    text = rng.choice(PREFIXES) + text + rng.choice(SUFFIXES) + rng.choice(ENDINGS)
    if rng.random() < 0.25:
        text = rng.choice(OPENINGS[domain]) + " " + text
    return text


def label_review(text):
    """Reference labeller: applies the rules in the comment above to the words alone."""
    words = re.findall(r"[a-z']+", text.lower())
    if "but" in words:
        words = words[len(words) - words[::-1].index("but"):]
    polarities = []
    current = []
    for word in words + ["and"]:
        if word != "and":
            current.append(word)
            continue
        sentiment = [w for w in current if w in POSITIVE_WORDS or w in NEGATIVE_WORDS]
        if sentiment:
            assert len(sentiment) == 1, f"several sentiment words in one clause: {text!r}"
            polarity = 1 if sentiment[0] in POSITIVE_WORDS else -1
            if any(w in NEGATORS or w.endswith("n't") for w in current):
                polarity = -polarity
            polarities.append(polarity)
        current = []
    assert polarities and len(set(polarities)) == 1, f"no single label: {text!r}"
    return polarities[0]


def make_reviews(rng, sizes):
    seen = set()
    examples = []
    total = sum(sizes.values())
    while len(examples) < total:
        label = 1 if len(examples) % 2 == 0 else -1
        text = make_review(rng, label)
        if text in seen:
            continue
        seen.add(text)
        assert label_review(text) == label, (text, label)
        assert "\t" not in text and "\n" not in text
        examples.append(("positive" if label > 0 else "negative", text))
    rng.shuffle(examples)
    return split(examples, sizes)


# ----------------------------------------------------------------------------------------------

def split(examples, sizes):
    """Consecutive slices in the order train, dev, test."""
    out, start = {}, 0
    for name in ("train", "dev", "test"):
        out[name] = examples[start:start + sizes[name]]
        start += sizes[name]
    return out


def write_lines(path, lines):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            f.write(line + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "data"),
                        help="output folder (default: data/ of the repository)")
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()

    dates = make_dates(random.Random(args.seed), {"train": 20000, "dev": 1000, "test": 1000})
    reviews = make_reviews(random.Random(args.seed + 1), {"train": 8000, "dev": 1000, "test": 1000})

    os.makedirs(os.path.join(args.out, "dates"), exist_ok=True)
    os.makedirs(os.path.join(args.out, "reviews"), exist_ok=True)
    for name, pairs in dates.items():
        write_lines(os.path.join(args.out, "dates", f"{name}.src"), [s for s, _ in pairs])
        write_lines(os.path.join(args.out, "dates", f"{name}.tgt"), [t for _, t in pairs])
    for name, rows in reviews.items():
        write_lines(os.path.join(args.out, "reviews", f"{name}.tsv"),
                    ["label\ttext"] + [f"{label}\t{text}" for label, text in rows])

    for name in ("train", "dev", "test"):
        positive = sum(label == "positive" for label, _ in reviews[name])
        print(f"dates/{name}: {len(dates[name])} pairs; reviews/{name}: {len(reviews[name])} "
              f"({positive} positive)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
