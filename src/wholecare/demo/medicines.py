"""What the synthetic population takes, as their GP practice's system would send it (decision
0037): common first-line medicines for each condition, named in words only.

Pure Python, like `texts`: each choice draws from the caller's Random. The names are those of
ordinary generic products; no dm+d code is given, since a made-up code would look real."""

from dataclasses import dataclass
from random import Random


@dataclass(frozen=True, slots=True)
class Prescribed:
    name: str
    dosage: str


#: For each condition figure, slots of alternatives (medicine, dosage, chance): at most one of
#: each slot is chosen, none with the chance left over.
_SLOTS: dict[str, tuple[tuple[tuple[str, str, float], ...], ...]] = {
    "hypertension": (
        (
            ("Amlodipine 5mg tablets", "One tablet once a day", 0.5),
            ("Ramipril 5mg capsules", "One capsule once a day", 0.4),
        ),
    ),
    "diabetes-type-2": ((("Metformin 500mg tablets", "One tablet twice a day with meals", 0.85),),),
    "diabetes-type-1": (
        (
            (
                "Insulin glargine 100units/ml solution for injection pre-filled pens",
                "Inject as directed once a day",
                1.0,
            ),
        ),
        (
            (
                "Insulin aspart 100units/ml solution for injection pre-filled pens",
                "Inject as directed with meals",
                1.0,
            ),
        ),
    ),
    "asthma": (
        (("Salbutamol 100micrograms/dose inhaler", "Two puffs when needed", 0.95),),
        (("Beclometasone 100micrograms/dose inhaler", "Two puffs twice a day", 0.6),),
    ),
    "copd": (
        (("Salbutamol 100micrograms/dose inhaler", "Two puffs when needed", 0.9),),
        (("Tiotropium 2.5micrograms/dose inhaler", "Two puffs once a day", 0.6),),
    ),
    "coronary-heart-disease": (
        (("Atorvastatin 80mg tablets", "One tablet at night", 0.85),),
        (("Aspirin 75mg dispersible tablets", "One tablet once a day", 0.75),),
        (
            (
                "Glyceryl trinitrate 400micrograms/dose sublingual spray",
                "One or two sprays under the tongue when needed for chest pain",
                0.5,
            ),
        ),
    ),
    "heart-failure": (
        (("Bisoprolol 2.5mg tablets", "One tablet once a day", 0.8),),
        (("Furosemide 40mg tablets", "One tablet each morning", 0.7),),
    ),
    "stroke-tia": (
        (("Clopidogrel 75mg tablets", "One tablet once a day", 0.8),),
        (("Atorvastatin 20mg tablets", "One tablet at night", 0.8),),
    ),
    "epilepsy": (
        (
            ("Lamotrigine 100mg tablets", "One tablet twice a day", 0.5),
            ("Levetiracetam 500mg tablets", "One tablet twice a day", 0.45),
        ),
    ),
    "rheumatoid-arthritis": (
        (("Methotrexate 2.5mg tablets", "Six tablets once a week, on Mondays", 0.6),),
        (("Folic acid 5mg tablets", "One tablet once a week, on Thursdays", 0.6),),
    ),
    "osteoarthritis": (
        (
            ("Paracetamol 500mg tablets", "Two tablets up to four times a day when needed", 0.5),
            ("Co-codamol 30mg/500mg tablets", "Two tablets up to four times a day", 0.1),
        ),
    ),
    "chronic-pain": (
        (
            ("Paracetamol 500mg tablets", "Two tablets up to four times a day when needed", 0.3),
            ("Co-codamol 30mg/500mg tablets", "Two tablets up to four times a day", 0.25),
        ),
        (("Amitriptyline 10mg tablets", "One or two tablets at night", 0.35),),
        (("Pregabalin 75mg capsules", "One capsule twice a day", 0.15),),
    ),
    "ibs": ((("Mebeverine 135mg tablets", "One tablet three times a day before meals", 0.4),),),
    "multiple-sclerosis": ((("Baclofen 10mg tablets", "One tablet three times a day", 0.4),),),
    "smi": (
        (
            ("Olanzapine 10mg tablets", "One tablet at night", 0.45),
            ("Aripiprazole 10mg tablets", "One tablet once a day", 0.3),
            ("Lithium carbonate 400mg modified-release tablets", "One tablet at night", 0.1),
        ),
    ),
    "dementia": ((("Donepezil 10mg tablets", "One tablet at night", 0.6),),),
    "depression": (
        (
            ("Sertraline 50mg tablets", "One tablet once a day", 0.55),
            ("Citalopram 20mg tablets", "One tablet once a day", 0.2),
        ),
    ),
    "anxiety": (
        (("Sertraline 50mg tablets", "One tablet once a day", 0.35),),
        (("Diazepam 2mg tablets", "One tablet up to three times a day when needed", 0.04),),
    ),
    "ptsd": ((("Sertraline 50mg tablets", "One tablet once a day", 0.3),),),
    "ocd": ((("Fluoxetine 20mg capsules", "One capsule once a day", 0.4),),),
}


def prescribed(rng: Random, condition: str) -> list[Prescribed]:
    """The medicines a person with the `condition` figure (or "diabetes-type-1"/"-type-2") takes
    for it; none for a condition usually managed without them."""
    found = []
    for slot in _SLOTS.get(condition, ()):
        roll = rng.random()
        for name, dosage, chance in slot:
            if roll < chance:
                found.append(Prescribed(name, dosage))
                break
            roll -= chance
    return found


@dataclass(frozen=True, slots=True)
class ClinicListed:
    """A medicine as a hospital clinic's list has it: taken, or stopped in clinic."""

    name: str
    dosage: str
    stopped: bool = False


#: What a heart failure clinic does to the GP's list (NICE NG106): beta-blockers titrated up,
#: loop diuretics adjusted to fluid, and an SGLT2 inhibitor added (NICE TA679).
_TITRATED = {"Bisoprolol 2.5mg tablets": ("Bisoprolol 5mg tablets", "One tablet once a day")}
_ADJUSTED = {"Furosemide 40mg tablets": "Two tablets each morning"}
_ADDED = ("Dapagliflozin 10mg tablets", "One tablet once a day", 0.6)
_LEFT_OFF = 0.1
"""The chance a medicine the clinic did not change is missing from its list."""


def heart_failure_clinic(
    rng: Random, taking: list[Prescribed], *, adds: bool = False
) -> list[ClinicListed]:
    """The list a heart failure clinic's system sends after a clinic, from what the GP lists the
    person taking: the differences a medicines reconciliation is there to find (decision 0042).
    `adds`: the clinic certainly starts a medicine (for a demonstration scenario)."""
    found = []
    for medicine in taking:
        if medicine.name in _TITRATED:
            found.append(ClinicListed(medicine.name, medicine.dosage, stopped=True))
            found.append(ClinicListed(*_TITRATED[medicine.name]))
        elif medicine.name in _ADJUSTED and rng.random() < 0.5:
            found.append(ClinicListed(medicine.name, _ADJUSTED[medicine.name]))
        elif rng.random() >= _LEFT_OFF:
            found.append(ClinicListed(medicine.name, medicine.dosage))
    name, dosage, chance = _ADDED
    if rng.random() < chance or adds:
        found.append(ClinicListed(name, dosage))
    return found
