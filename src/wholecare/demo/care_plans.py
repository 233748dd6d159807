"""Personalised care and support plans for the synthetic population, built from templates.

Pure Python, like `texts`: each plan draws its variation from the caller's Random.
"""

from dataclasses import dataclass
from random import Random

#: The kinds of plan the demonstration writes, by who usually leads them.
AT_HOME = "at-home"
RECOVERY = "recovery"
CONNECTING = "connecting"
LIVING_WELL = "living-well"

#: How far an action has got, as `record.CarePlanAction.Status` holds it.
NOT_STARTED, IN_PROGRESS, DONE = "not-started", "in-progress", "completed"


@dataclass(frozen=True, slots=True)
class PlanText:
    title: str
    what_matters: str
    actions: tuple[tuple[str, str], ...]
    """(what will be done, who does it), in order."""
    if_things_change: str


_CONDITION_WORDS = {
    "copd": "COPD",
    "diabetes": "diabetes",
    "heart-failure": "heart failure",
    "coronary-heart-disease": "heart disease",
    "chronic-pain": "chronic pain",
    "cfs-me": "ME/CFS",
    "ibs": "IBS",
    "asthma": "asthma",
    "cancer": "life after cancer",
    "rheumatoid-arthritis": "arthritis",
    "osteoarthritis": "arthritis",
}


def plan_text(rng: Random, kind: str, given: str, conditions: set[str]) -> PlanText:
    """The plan of `kind` for a person called `given` with these condition figures."""
    if kind == AT_HOME:
        return PlanText(
            "Staying well at home",
            rng.choice(
                (
                    f"{given} wants to stay in their own home, and to keep seeing friends at the"
                    " lunch club on Thursdays.",
                    f"Staying at home with the cat, and getting out into the garden when the"
                    f" weather is good. {given} does not want to go into a care home.",
                    f"{given} wants to manage their own medicines and be able to get upstairs"
                    " to bed.",
                )
            ),
            (
                ("Help with washing and dressing each morning", "Homecare worker"),
                ("Check skin and dressings each week", "District nurse"),
                ("Review the stair rail and bathroom equipment", "Occupational therapist"),
                (rng.choice(("Ring every evening", "Do the weekly shop")), "Family"),
            ),
            "If there is a fall, press the pendant alarm. If breathing or confusion is worse"
            " than usual, ring the GP practice, or NHS 111 out of hours; in an emergency,"
            " 999.",
        )
    if kind == RECOVERY:
        return PlanText(
            "Recovery and crisis plan",
            rng.choice(
                (
                    "Getting back to work part time, and keeping my flat.",
                    "Seeing my children at weekends and sleeping better.",
                    "Staying out of hospital and going back to the allotment.",
                )
            ),
            (
                ("Take medication as agreed and tell the team about side effects", "Me"),
                ("Meet every two weeks to review how things are going", "Care coordinator"),
                ("Monthly peer support meeting", "Peer support worker"),
                ("Physical health check each year", "GP practice"),
            ),
            "Early signs: not sleeping, not eating, hearing voices more. Ring the care"
            " coordinator in office hours, or the 24-hour crisis line; in an emergency, 999.",
        )
    if kind == CONNECTING:
        return PlanText(
            "Getting out and about",
            rng.choice(
                (
                    f"{given} would like to meet people again, and to feel less alone since"
                    " their wife died.",
                    f"{given} wants company, something to do in the week, and help with the"
                    " heating bills.",
                )
            ),
            (
                ("Try the Tuesday walking group", "Me, with the link worker"),
                ("Join the Breathe Easy support group", "Me"),
                ("Benefits and energy advice appointment", "Citizens Advice"),
            ),
            "If I stop going out or stop answering the phone, the link worker will ring my"
            " GP practice.",
        )
    named = [_CONDITION_WORDS[c] for c in sorted(conditions) if c in _CONDITION_WORDS]
    condition = named[0] if named else "my long-term condition"
    return PlanText(
        f"Living well with {condition} and low mood",
        rng.choice(
            (
                "Feeling more like myself, and being able to play with my grandchildren.",
                "Getting back to work, and understanding my condition better.",
                "Sleeping better, and worrying less about my health.",
            )
        ),
        (
            ("Take my medicines as agreed", "Me"),
            ("Review of my condition every six months", "Practice nurse"),
            ("Talking Therapies for low mood, alongside my condition care", "Me"),
            ("Walk for 20 minutes most days", "Me"),
        ),
        "If my mood drops or I think of harming myself, ring the GP practice the same day,"
        " or NHS 111 option 2 out of hours; in an emergency, 999.",
    )
