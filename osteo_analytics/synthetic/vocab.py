"""French vocabulary the synthetic practice draws from.

Fixed lists, so that output depends only on the seed and the installed Faker version
(names and street names come from Faker's fr_FR lists). Every free-text value that a real
practice would type is here, so a pseudonymization test can grep for any of them.
"""

from __future__ import annotations

import functools
import unicodedata

from faker import Faker
from faker.providers.person.fr_FR import Provider as _PersonFR


@functools.lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Upper-case ASCII form of a name: the key a name-based importer would match on."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


def _dedupe(names: tuple[str, ...] | list[str], exclude: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    # Names that collide once accents and case are folded ("Lefèvre"/"Lefevre") would make
    # two patients indistinguishable for a ledger importer: keep only the first spelling.
    seen = set(exclude)
    kept = []
    for name in names:
        key = fold(name)
        if key not in seen:
            seen.add(key)
            kept.append(name)
    return kept


# Hyphenated family names are left out: compound names are built from two pool names with
# a hyphen (see people.py), and must never equal a pool name.
FAMILY_NAMES = _dedupe([n for n in _PersonFR.last_names if "-" not in n])
FEMALE_FIRST = _dedupe(_PersonFR.first_names_female)
# Epicene first names (Camille, Dominique...) stay female only, so (family, first) is unique.
MALE_FIRST = _dedupe(_PersonFR.first_names_male, {fold(n) for n in FEMALE_FIRST})


def street_names(seed: int, count: int = 400) -> list[str]:
    """A fixed pool of French street names ("rue de la Poterie"), drawn once per seed."""
    fake = Faker("fr_FR")
    fake.seed_instance(seed)
    return sorted({fake.street_name() for _ in range(count)})


# (postcode, city, weight). The practice sits in Ille-et-Vilaine; patients come mostly from
# around it, some from further away, a few from Corsica (2A/2B) and overseas (97x).
CITIES: list[tuple[str, str, int]] = [
    ("35000", "Rennes", 30),
    ("35200", "Rennes", 14),
    ("35700", "Rennes", 12),
    ("35510", "Cesson-Sévigné", 8),
    ("35135", "Chantepie", 6),
    ("35136", "Saint-Jacques-de-la-Lande", 6),
    ("35170", "Bruz", 6),
    ("35650", "Le Rheu", 4),
    ("35740", "Pacé", 4),
    ("35760", "Saint-Grégoire", 5),
    ("35830", "Betton", 4),
    ("35500", "Vitré", 3),
    ("35400", "Saint-Malo", 3),
    ("35300", "Fougères", 2),
    ("22000", "Saint-Brieuc", 2),
    ("29200", "Brest", 1),
    ("56000", "Vannes", 2),
    ("44000", "Nantes", 3),
    ("53000", "Laval", 1),
    ("75011", "Paris", 2),
    ("75015", "Paris", 1),
    ("92100", "Boulogne-Billancourt", 1),
    ("69003", "Lyon", 1),
    ("13008", "Marseille", 1),
    ("20000", "Ajaccio", 1),
    ("20200", "Bastia", 1),
    ("20137", "Porto-Vecchio", 1),
    ("97400", "Saint-Denis", 1),
    ("97200", "Fort-de-France", 1),
    ("97100", "Basse-Terre", 1),
]

ADDRESS_COMPLEMENTS = [
    "Bât. C, apt 21",
    "Résidence Les Hortensias",
    "4e étage droite",
    "Lieu-dit La Touche",
    "BP 17",
    "Appartement 3",
    "Chez M. et Mme Le Guen",
]

EMAIL_DOMAINS = ["gmail.com", "orange.fr", "free.fr", "wanadoo.fr", "hotmail.fr", "laposte.net"]

JOBS_ADULT = [
    "Infirmière",
    "Ingénieur",
    "Ingénieure télécom",
    "Caissière",
    "Boulanger",
    "Agriculteur",
    "Professeur des écoles",
    "Secrétaire médicale",
    "Cadre bancaire",
    "Fonctionnaire",
    "Chauffeur routier",
    "Développeuse informatique",
    "Aide-soignante",
    "Artisan menuisier",
    "Commerciale",
    "Demandeur d'emploi",
]
JOBS_STUDENT = ["Étudiante", "Étudiant", "Étudiant en médecine", "Étudiante infirmière"]
JOBS_RETIRED = ["Retraitée (ex-infirmière)", "Retraité", "Retraitée de l'enseignement"]
JOBS_CHILD = ["Lycéenne", "Lycéen", "Collégien", "Écolier"]
HOBBIES = [
    "Randonnée",
    "Yoga",
    "Course à pied",
    "Handball",
    "Palet breton",
    "Danse bretonne",
    "Escalade",
    "Natation",
    "Chorale",
    "Jardinage",
    "Vélo",
    "Tennis",
    "",
]

IMPORTANT_INFO = [
    "Malentendant, parler fort",
    "Anticoagulants — prudence",
    "Allergie au latex",
    "Porteur d'un pacemaker",
    "Claustrophobe",
]
TREATMENTS = [
    "Doliprane si besoin",
    "Ventoline",
    "Kardegic 75 mg",
    "Levothyrox 50 µg",
    "Anti-inflammatoires ponctuels",
    "Pilule contraceptive",
    "Aucun",
]
SURGICAL = [
    "Appendicectomie (2005)",
    "Prothèse totale de genou gauche",
    "Hernie inguinale",
    "Césarienne (2019)",
    "Ligamentoplastie LCA droit",
    "Cholécystectomie",
]
MEDICAL = [
    "Allergie aux pollens",
    "Hypertension artérielle",
    "Diabète de type 2\nSyndrome du canal carpien",
    "Hypercholestérolémie, Reflux gastro-œsophagien, Migraines avec aura",
    "Asthme",
    "Scoliose dorsale droite (suivie) ; Bronchiolites (petite enfance)",
    "Hypothyroïdie",
]
FAMILY = ["RAS", "Mère : polyarthrite rhumatoïde", "Père : infarctus à 55 ans", "Diabète familial"]
TRAUMA = [
    "Entorse grave cheville gauche",
    "Chute de vélo (2019), fracture poignet",
    "Coup du lapin (accident de voiture 2016)",
    "Fracture clavicule droite (enfance)",
]
REPORTS = [
    "IRM lombaire 09/2023 : discopathie L5-S1",
    "Radio du bassin normale",
    "Échographie épaule : tendinopathie du sus-épineux",
]

# Motifs (examination `reason`), by population; type 2 visits prefix "Suite : ".
MOTIFS_ADULT = [
    "Lombalgie",
    "Lumbago",
    "Sciatalgie gauche",
    "Sciatique droite",
    "Cervicalgie",
    "Torticolis",
    "Dorsalgie",
    "Douleur épaule droite",
    "Tendinite épaule",
    "Canal carpien",
    "Douleur genou gauche",
    "Entorse cheville",
    "Pubalgie",
    "Syndrome du piriforme",
    "Céphalées de tension",
    "Migraines",
    "Vertiges positionnels",
    "Douleur mâchoire (ATM)",
    "Troubles digestifs",
    "Reflux gastrique",
    "Stress et troubles du sommeil",
    "Bilan annuel",
    "Névralgie d'Arnold",
    "Chute dans l'escalier",
    "Douleur côtes",
    "Coup du lapin",
]
MOTIFS_PREGNANCY = ["Lombalgie de grossesse", "Suivi post-partum", "Douleur pubienne (grossesse)"]
MOTIFS_CHILD = [
    "Bilan croissance",
    "Scoliose",
    "Douleurs de croissance",
    "Mal de dos (cartable)",
    "Otites à répétition",
    "Chute à vélo",
]
MOTIFS_INFANT = [
    "Plagiocéphalie",
    "Coliques du nourrisson",
    "Troubles de la succion",
    "Torticolis congénital",
    "Régurgitations",
    "Bilan nourrisson",
]
MOTIFS_EMERGENCY = [
    "Blocage lombaire aigu",
    "Torticolis aigu",
    "Lumbago aigu",
    "Douleur thoracique mécanique",
    "Cervicalgie aiguë après chute",
]

REASON_DESCRIPTIONS = [
    "Douleur 7/10 le matin, 2/10 le soir ; aggravée en position assise.",
    "Suite de la séance précédente, amélioration partielle.",
    "Raideur matinale, dérouillage d'une demi-heure.",
    "Garde ses petits-enfants, port de charges.",
    "Chute à domicile il y a 10 jours, pas de fracture à la radio.",
    "Adressé(e) par le Dr Kerjean.",
    "Douleur apparue après une séance de jardinage.",
    'Pleure beaucoup le soir, "tête toujours tournée à gauche".',
    "Travail sur écran 8 h/jour,\ndouleur en fin de journée.",
    "",
]
ORL = ["", "", "Sinusites fréquentes", "Otites récidivantes dans l'enfance", "RAS"]
VISCERAL = ["", "", "Constipation chronique", "Reflux post-prandial", "RAS"]
PULMO = ["", "", "RAS", "Asthme d'effort"]
URO = ["", "", "RAS", "Cystites à répétition"]
PERIPHERY = ["", "", "Paresthésies main gauche", "Genou droit douloureux"]
GENERAL = [
    "",
    "Bon état général",
    "Fatigué(e)",
    "Stressé(e), sommeil médiocre",
    "Douleur importante, EVA 7/10",
    "Bon état général, sportif",
]
EXAMS = [
    "",
    "Lasègue négatif, pas de déficit neurologique.",
    "Test de Spurling négatif.",
    "Examen neurologique normal.\nRéflexes symétriques.",
    "Mobilité cervicale réduite en rotation gauche.",
    "Tests orthopédiques négatifs.",
    "Restriction sacro-iliaque droite ; tension psoas gauche.",
]
DIAGNOSES = [
    "Dysfonction sacro-iliaque droite",
    "Dysfonction C2-C3",
    "Tension diaphragmatique",
    "Contracture trapèze supérieur",
    "Dysfonction crânienne (SSB)",
    "Restriction L4-L5",
    "Dysfonction costale T6 gauche",
]
TREATMENT_TEXTS = [
    "Mobilisations articulaires, trigger points",
    "Technique de Jones, myotensif",
    "HVBA dorsale, étirements psoas",
    "Techniques fonctionnelles, travail diaphragmatique",
    "Techniques crâniennes douces, viscéral",
    "Techniques structurelles L4-L5 ; fasciathérapie ; crânien",
]
CONCLUSIONS = [
    "Revoir dans 15 jours",
    "Revoir dans 3 semaines",
    "Revoir dans 1 mois si besoin",
    "Conseils posturaux donnés",
    "Fin de suivi",
    "Orienter vers médecin traitant si persistance",
    # Starts with "-": drf-excel prefixes an apostrophe in the xlsx export.
    "- Exercices d'étirement à faire à la maison\n- Revoir dans 6 semaines",
]

# status_reason of not-invoiced examinations (status 3). The first two lists mark
# appointments that did not take place: an importer maps them to cancelled / no_show.
REASONS_CANCELLED = [
    "Rendez-vous annulé par le patient",
    "Annulé (maladie)",
    "Annulé la veille",
    "Rendez-vous annulé par le cabinet",
]
REASONS_NO_SHOW = ["Patient absent", "Rendez-vous non honoré"]
REASONS_FREE = ["Séance offerte (contrôle)", "Geste commercial", "Suivi nourrisson offert"]

DOCTORS = 12  # regular doctors known to the practice (ids 1..12, text in patients.xlsx)
