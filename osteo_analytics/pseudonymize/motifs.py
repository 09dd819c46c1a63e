"""Motif categories: free-text consultation reasons → a controlled category (invariant 3).

Adapters call `motif_category` as they read a row, so free clinical text never leaves
the adapter; only the category code is kept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from osteo_analytics.contracts.model import labels
from osteo_analytics.pseudonymize.primitives import normalize_name

# Rules are tried in this order; the first one with a matching keyword wins. Population
# rules (infant, pregnancy) come first because they say more than the body region
# ("Torticolis congénital" is an infant's motif); body regions before mechanisms
# ("Entorse cheville" is lower_limb, "Chute à vélo" trauma_sport); checkup last, since
# "Suivi …" is only a checkup when nothing more specific is named.
# Keyword syntax: a word matches itself and its plural in -s/-x; "stem*" matches any word
# that starts with stem; several words must follow each other. Keywords are written in
# French and go through normalize_name like the text, so accents and case do not matter.
MOTIF_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("infant_child", (
        "nourrisson", "bébé", "plagiocéphalie", "succion", "colique", "congénital*",
        "croissance", "enfant", "cartable", "post-natal*", "postnatal*",
    )),
    ("pregnancy", (
        "grossesse", "enceinte", "accouchement", "post-partum", "postpartum", "prénatal*",
    )),
    ("low_back", (
        "lomb*", "lumbago", "sciatique", "sciatalgie", "cruralgie", "bas du dos",
        "sacro*", "sacrum", "coccy*",
    )),
    ("neck", ("cervical*", "torticolis", "névralgie d'Arnold", "nuque", "cou")),
    ("mid_back", (
        "dorsal*", "dos", "côtes", "costal*", "intercostal*", "thora*", "scoliose",
    )),
    ("upper_limb", (
        "épaule", "coude", "poignet", "main", "canal carpien", "bras", "doigt", "pouce",
        "épicondyl*",
    )),
    ("lower_limb", (
        "genou", "cheville", "hanche", "pied", "entorse", "pubalgie", "piriforme",
        "jambe", "cuisse", "mollet", "talon", "ménisque", "plantaire",
    )),
    ("head_jaw_ent", (
        "céphal*", "migraine", "vertige", "ATM", "mâchoire", "otite", "sinusite",
        "acouphène", "ORL", "orthodont*", "bruxisme", "tête",
    )),
    ("digestive", (
        "digesti*", "constipation", "reflux", "ventre", "ballonnement", "régurgitation",
        "viscéral*", "transit",
    )),
    ("trauma_sport", (
        "chute", "accident*", "trauma*", "coup du lapin", "sport*", "course",
    )),
    ("stress_sleep", (
        "stress*", "anxi*", "angoiss*", "sommeil", "insomnie", "fatigue*", "burn-out",
        "burnout",
    )),
    ("checkup", ("bilan", "prévention", "préventif*", "contrôle", "suivi")),
)  # fmt: skip
MOTIF_OTHER = "other"
# code → French label, in the contract's order (the contract is where labels live)
MOTIF_LABELS: Mapping[str, str] = labels("consultations", "motif_category")


def _keyword_pattern(keyword: str) -> str:
    words = []
    for word in keyword.split():
        if word.endswith("*"):
            words.append(re.escape(normalize_name(word[:-1])) + r"\S*")
        else:
            words.append(re.escape(normalize_name(word)) + "[sx]?")
    return " ".join(words)


# Normalized text is words separated by single spaces, so "not next to a non-space" is
# the word boundary (\b would also split inside non-ASCII letters that survive folding).
_MOTIF_PATTERNS = tuple(
    (code, re.compile(r"(?<!\S)(?:" + "|".join(map(_keyword_pattern, kws)) + r")(?!\S)"))
    for code, kws in MOTIF_RULES
)


def motif_category(text: str | None) -> str | None:
    """Map a free-text consultation reason to a MOTIF_LABELS code (rules above).

    None for None or blank text, ``"other"`` when text is present but no rule matches.
    The text itself is never kept.
    """
    folded = normalize_name(text)
    if not folded:
        return None
    for code, pattern in _MOTIF_PATTERNS:
        if pattern.search(folded):
            return code
    return MOTIF_OTHER
