"""The record's built-in code lists: conditions (SNOMED CT with ICD-10 equivalents), social care
needs,
ethnic category, language, contact and communication preferences, entry sensitivity.

Pure Python. Sources: SNOMED CT codes from the NHS primary care domain reference sets (QOF
clusters) as
published on OpenCodelists, or, where marked `secondary`, seen only in secondary public code lists;
ICD-10 from WHO ICD-10 (5th edition) block codes; ethnic category, language, contact method and
written communication format from the UK Core code systems (UKCore-EthnicCategoryEngland 1.1.1 and
siblings, HL7 UK). The `plain` text is what a colleague from another discipline reads beside the
code.
"""

from dataclasses import dataclass
from enum import StrEnum

SNOMED_CT = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"


class ConditionGroup(StrEnum):
    LONG_TERM = "long-term"
    MENTAL_HEALTH = "mental-health"
    UNCLASSIFIED = "unclassified"
    """Any other SNOMED CT condition a sender records: held with the sender's display text, shown
    among the person's other conditions, counted in no long-term or mental health figure."""


@dataclass(frozen=True)
class ConditionConcept:
    snomed: str
    display: str
    icd10: str
    group: ConditionGroup
    value_set: str
    plain: str
    secondary: bool = False


_L = ConditionGroup.LONG_TERM
_M = ConditionGroup.MENTAL_HEALTH

CONDITIONS: tuple[ConditionConcept, ...] = (
    ConditionConcept(
        "73211009",
        "Diabetes mellitus",
        "E14",
        _L,
        "diabetes",
        "A long-term condition in which blood sugar is too high.",
    ),
    ConditionConcept(
        "46635009",
        "Type 1 diabetes mellitus",
        "E10",
        _L,
        "diabetes",
        "Diabetes in which the body makes no insulin; treated with insulin.",
    ),
    ConditionConcept(
        "44054006",
        "Type 2 diabetes mellitus",
        "E11",
        _L,
        "diabetes",
        "Diabetes in which the body does not use insulin well; the commonest type.",
    ),
    ConditionConcept(
        "195967001",
        "Asthma",
        "J45",
        _L,
        "asthma",
        "A lung condition causing wheeze and breathlessness, often in attacks.",
    ),
    ConditionConcept(
        "13645005",
        "Chronic obstructive lung disease",
        "J44",
        _L,
        "copd",
        "COPD: long-term lung damage (such as emphysema) making breathing hard.",
    ),
    ConditionConcept(
        "414545008",
        "Ischaemic heart disease",
        "I25",
        _L,
        "coronary-heart-disease",
        "Coronary heart disease: narrowed heart arteries, causing angina or heart attacks.",
    ),
    ConditionConcept(
        "22298006", "Myocardial infarction", "I21", _L, "coronary-heart-disease", "A heart attack."
    ),
    ConditionConcept(
        "194828000",
        "Angina",
        "I20",
        _L,
        "coronary-heart-disease",
        "Chest pain from the heart not getting enough blood.",
    ),
    ConditionConcept(
        "84114007",
        "Heart failure",
        "I50",
        _L,
        "heart-failure",
        "The heart does not pump as well as it should: breathlessness, swollen ankles.",
    ),
    ConditionConcept(
        "230690007",
        "Cerebrovascular accident",
        "I64",
        _L,
        "stroke-tia",
        "A stroke: loss of blood supply to part of the brain.",
    ),
    ConditionConcept(
        "266257000",
        "Transient ischaemic attack",
        "G45.9",
        _L,
        "stroke-tia",
        "A 'mini-stroke' whose symptoms pass within 24 hours.",
    ),
    ConditionConcept(
        "38341003", "Hypertensive disorder", "I10", _L, "hypertension", "High blood pressure."
    ),
    ConditionConcept(
        "433144002",
        "Chronic kidney disease stage 3",
        "N18.3",
        _L,
        "ckd",
        "Kidneys working at 30-59% of normal.",
    ),
    ConditionConcept(
        "431857002",
        "Chronic kidney disease stage 4",
        "N18.4",
        _L,
        "ckd",
        "Kidneys working at 15-29% of normal.",
    ),
    ConditionConcept(
        "433146000",
        "Chronic kidney disease stage 5",
        "N18.5",
        _L,
        "ckd",
        "Kidney failure: dialysis or a transplant may be needed.",
    ),
    ConditionConcept("363346000", "Malignant neoplastic disease", "C80.9", _L, "cancer", "Cancer."),
    ConditionConcept(
        "82423001",
        "Chronic pain",
        "R52.2",
        _L,
        "chronic-pain",
        "Pain lasting more than three months.",
        secondary=True,
    ),
    ConditionConcept(
        "52702003",
        "Chronic fatigue syndrome",
        "G93.3",
        _L,
        "cfs-me",
        "CFS/ME: long-term exhaustion not relieved by rest.",
        secondary=True,
    ),
    ConditionConcept(
        "10743008",
        "Irritable bowel syndrome",
        "K58.9",
        _L,
        "ibs",
        "A long-term gut condition: pain, bloating, diarrhoea or constipation.",
        secondary=True,
    ),
    ConditionConcept(
        "69896004",
        "Rheumatoid arthritis",
        "M06.9",
        _L,
        "arthritis",
        "An autoimmune condition causing painful, swollen joints.",
    ),
    ConditionConcept(
        "396275006",
        "Osteoarthritis",
        "M19.9",
        _L,
        "arthritis",
        "Wear of the joints causing pain and stiffness.",
        secondary=True,
    ),
    ConditionConcept(
        "84757009",
        "Epilepsy",
        "G40.9",
        _L,
        "epilepsy",
        "A brain condition causing repeated seizures.",
    ),
    ConditionConcept(
        "24700007",
        "Multiple sclerosis",
        "G35",
        _L,
        "multiple-sclerosis",
        "MS: the immune system damages nerves; affects movement, sight, fatigue.",
        secondary=True,
    ),
    ConditionConcept(
        "35489007",
        "Depressive disorder",
        "F32.9",
        _M,
        "depression",
        "Depression: low mood and loss of interest lasting weeks or more.",
    ),
    ConditionConcept(
        "370143000", "Major depressive disorder", "F32.2", _M, "depression", "Severe depression."
    ),
    ConditionConcept(
        "21897009",
        "Generalised anxiety disorder",
        "F41.1",
        _M,
        "anxiety",
        "Persistent, hard-to-control worry about many things.",
        secondary=True,
    ),
    ConditionConcept(
        "371631005",
        "Panic disorder",
        "F41.0",
        _M,
        "anxiety",
        "Repeated, unexpected panic attacks.",
        secondary=True,
    ),
    ConditionConcept(
        "70691001",
        "Agoraphobia",
        "F40.0",
        _M,
        "anxiety",
        "Fear of places or situations that feel hard to escape.",
        secondary=True,
    ),
    ConditionConcept(
        "25501002",
        "Social phobia",
        "F40.1",
        _M,
        "anxiety",
        "Social anxiety: intense fear of being judged by others.",
        secondary=True,
    ),
    ConditionConcept(
        "47505003",
        "Post-traumatic stress disorder",
        "F43.1",
        _M,
        "ptsd",
        "PTSD: reliving a traumatic event, with avoidance and feeling on edge.",
        secondary=True,
    ),
    ConditionConcept(
        "191736004",
        "Obsessive-compulsive disorder",
        "F42.9",
        _M,
        "ocd",
        "OCD: unwanted, repeated thoughts and urges to carry out rituals.",
        secondary=True,
    ),
    ConditionConcept(
        "69322001",
        "Psychotic disorder",
        "F29",
        _M,
        "psychosis",
        "Losing touch with reality: hearing or believing things others do not.",
    ),
    ConditionConcept(
        "58214004", "Schizophrenia", "F20.9", _M, "psychosis", "A long-term psychotic illness."
    ),
    ConditionConcept(
        "13746004",
        "Bipolar disorder",
        "F31.9",
        _M,
        "bipolar",
        "Episodes of depression and of very high mood (mania).",
    ),
    ConditionConcept(
        "33449004",
        "Personality disorder",
        "F60.9",
        _M,
        "personality-disorder",
        "Long-standing patterns of thinking and relating that cause distress.",
        secondary=True,
    ),
    ConditionConcept(
        "52448006",
        "Dementia",
        "F03",
        _M,
        "dementia",
        "A progressive decline in memory and thinking.",
    ),
    ConditionConcept(
        "26929004",
        "Alzheimer's disease",
        "G30.9",
        _M,
        "dementia",
        "The commonest cause of dementia.",
    ),
)

CONDITIONS_BY_SNOMED: dict[str, ConditionConcept] = {c.snomed: c for c in CONDITIONS}

VALUE_SET_LABELS: dict[str, str] = {
    "diabetes": "Diabetes",
    "asthma": "Asthma",
    "copd": "COPD",
    "coronary-heart-disease": "Coronary heart disease",
    "heart-failure": "Heart failure",
    "stroke-tia": "Stroke and TIA",
    "hypertension": "Hypertension",
    "ckd": "Chronic kidney disease",
    "cancer": "Cancer",
    "chronic-pain": "Chronic pain",
    "cfs-me": "CFS/ME",
    "ibs": "Irritable bowel syndrome",
    "arthritis": "Arthritis",
    "epilepsy": "Epilepsy",
    "multiple-sclerosis": "Multiple sclerosis",
    "depression": "Depression",
    "anxiety": "Anxiety disorders",
    "ptsd": "PTSD",
    "ocd": "OCD",
    "psychosis": "Psychosis",
    "bipolar": "Bipolar disorder",
    "personality-disorder": "Personality disorder",
    "dementia": "Dementia",
}


class UnknownCode(ValueError):
    pass


def condition(snomed: str) -> ConditionConcept:
    """The concept of a code in the condition value sets (UnknownCode for any other)."""
    try:
        return CONDITIONS_BY_SNOMED[snomed]
    except KeyError:
        raise UnknownCode(
            f"SNOMED CT code {snomed!r} is not in Wholecare's condition value sets"
        ) from None


def classify(snomed: str, display: str = "") -> ConditionConcept:
    """Any condition's concept: its value set's, or an unclassified one carrying the sender's
    display text (the value sets only classify; they never decide what the record may hold)."""
    known = CONDITIONS_BY_SNOMED.get(snomed)
    if known is not None:
        return known
    return ConditionConcept(
        snomed=snomed,
        display=display.strip() or f"SNOMED CT {snomed} (no description sent)",
        icd10="",
        group=ConditionGroup.UNCLASSIFIED,
        value_set="",
        plain="",
    )


class InvalidSnomedId(ValueError):
    pass


def check_concept_id(snomed: str) -> str:
    """`snomed` if it has the shape of a SNOMED CT concept identifier (6 to 18 digits, no leading
    zero, the concept partition 00 or 10 before the check digit); InvalidSnomedId otherwise.
    The check digit is not tested: some concept ids in common use do not pass a Verhoeff check."""
    if not (snomed.isascii() and snomed.isdigit() and 6 <= len(snomed) <= 18):
        raise InvalidSnomedId(
            f"{snomed!r} is not a SNOMED CT identifier: it must be 6 to 18 digits"
        )
    if snomed[0] == "0":
        raise InvalidSnomedId(f"{snomed!r} is not a SNOMED CT identifier: it starts with 0")
    if snomed[-3:-1] not in {"00", "10"}:
        raise InvalidSnomedId(f"{snomed!r} is a SNOMED CT identifier, but not of a concept")
    return snomed


def value_set(name: str) -> tuple[ConditionConcept, ...]:
    if name not in VALUE_SET_LABELS:
        raise UnknownCode(f"There is no condition value set called {name!r}")
    return tuple(c for c in CONDITIONS if c.value_set == name)


@dataclass(frozen=True)
class SocialCareNeed:
    code: str
    display: str
    plain: str


SOCIAL_CARE_NEED_SYSTEM = "https://wholecare.example.org/CodeSystem/social-care-need"
SOCIAL_CARE_NEEDS: tuple[SocialCareNeed, ...] = (
    SocialCareNeed(
        "personal-care", "Personal care", "Help with washing, dressing or using the toilet."
    ),
    SocialCareNeed(
        "mobility", "Mobility and transfers", "Help moving about, getting in or out of bed."
    ),
    SocialCareNeed(
        "nutrition", "Meal preparation and nutrition", "Help preparing meals or eating."
    ),
    SocialCareNeed("medication", "Medication support", "Prompting or help to take medicines."),
    SocialCareNeed("continence", "Continence", "Help managing bladder or bowels."),
    SocialCareNeed(
        "memory", "Memory and cognition", "Support because of memory or thinking problems."
    ),
    SocialCareNeed(
        "isolation", "Social isolation", "Lonely or cut off; would benefit from company."
    ),
    SocialCareNeed("housing", "Housing", "Home unsafe, unsuitable or at risk."),
    SocialCareNeed(
        "carer-support", "Carer support", "An unpaid carer who needs support themselves."
    ),
    SocialCareNeed("finance", "Managing money", "Help with bills, benefits or debt."),
    SocialCareNeed(
        "safeguarding", "Safeguarding concern", "A risk of abuse or neglect is being looked at."
    ),
)
SOCIAL_CARE_NEEDS_BY_CODE = {need.code: need for need in SOCIAL_CARE_NEEDS}

ETHNIC_CATEGORIES: dict[str, str] = {
    "A": "White - British",
    "B": "White - Irish",
    "C": "White - Any other White background",
    "D": "Mixed - White and Black Caribbean",
    "E": "Mixed - White and Black African",
    "F": "Mixed - White and Asian",
    "G": "Mixed - Any other mixed background",
    "H": "Asian or Asian British - Indian",
    "J": "Asian or Asian British - Pakistani",
    "K": "Asian or Asian British - Bangladeshi",
    "L": "Asian or Asian British - Any other Asian background",
    "M": "Black or Black British - Caribbean",
    "N": "Black or Black British - African",
    "P": "Black or Black British - Any other Black background",
    "R": "Other Ethnic Groups - Chinese",
    "S": "Other Ethnic Groups - Any other ethnic group",
    "Z": "Not stated",
    "99": "Not known",
}

LANGUAGES: dict[str, str] = {
    "en": "English",
    "q4": "British Sign Language",
    "ar": "Arabic",
    "bn": "Bengali",
    "zh": "Chinese",
    "fa": "Persian",
    "fr": "French",
    "gu": "Gujarati",
    "hi": "Hindi",
    "it": "Italian",
    "ku": "Kurdish",
    "lt": "Lithuanian",
    "pa": "Panjabi",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "so": "Somali",
    "es": "Spanish",
    "ta": "Tamil",
    "ti": "Tigrinya",
    "tr": "Turkish",
    "ur": "Urdu",
}

CONTACT_METHODS: dict[str, str] = {
    "1": "Letter",
    "2": "Visit",
    "3": "Telephone",
    "4": "Email",
    "5": "Minicom (textphone)",
    "6": "Telephone contact via proxy",
    "7": "Sign language",
    "8": "No telephone contact",
    "9": "SMS",
}

WRITTEN_FORMATS: dict[str, str] = {"11": "Large print", "12": "Braille", "13": "Audio"}


class Sensitivity(StrEnum):
    """How an entry is shared. Anything but NORMAL is shown only where the person's consent
    allows."""

    NORMAL = "normal"
    PSYCHOLOGICAL_THERAPY = "psychological-therapy"
    SEXUAL_HEALTH = "sexual-health"
    SAFEGUARDING = "safeguarding"

    @property
    def label(self) -> str:
        return {
            "normal": "Shared with the care team",
            "psychological-therapy": "Psychological therapy note",
            "sexual-health": "Sexual health",
            "safeguarding": "Safeguarding",
        }[self.value]

    @property
    def entries(self) -> str:
        """What entries of this kind are called in a sentence: "psychological therapy notes"."""
        return {
            "normal": "entries shared with the care team",
            "psychological-therapy": "psychological therapy notes",
            "sexual-health": "sexual health entries",
            "safeguarding": "safeguarding entries",
        }[self.value]


class WithheldFromPerson(StrEnum):
    """Why a clinician keeps one entry out of the person's own online record (decision 0040): the
    two grounds on which the NHS withholds information from a person's access to their record
    (the serious harm test, and another person's information given without their agreement)."""

    SERIOUS_HARM = "serious-harm"
    THIRD_PARTY = "third-party"

    @property
    def label(self) -> str:
        return {
            "serious-harm": "It could cause serious harm to the person or someone else",
            "third-party": (
                "It holds information about someone else, who has not agreed to share it"
            ),
        }[self.value]

    @property
    def short(self) -> str:
        """The reason in a few words, as the timeline tags the entry."""
        return {"serious-harm": "serious harm", "third-party": "someone else's information"}[
            self.value
        ]


#: Entries the person never reads in their own record, whatever a clinician decides: a
#: safeguarding note read over the person's shoulder, or by whoever harms them, can put them in
#: danger, and it usually holds other people's information (decision 0040).
NEVER_SHOWN_TO_PERSON = frozenset({Sensitivity.SAFEGUARDING})
