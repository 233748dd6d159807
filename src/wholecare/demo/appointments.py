"""The reviews the synthetic population's GP practices have booked, as their systems send them
(decision 0039): the yearly reviews of long-term conditions, in the coming weeks.

Pure Python, like `texts`: each choice draws from the caller's Random."""

from dataclasses import dataclass
from random import Random


@dataclass(frozen=True, slots=True)
class Review:
    what: str
    instructions: str


#: For each condition figure, the review the practice books for it, and how many of the people
#: with it have one booked in the coming six weeks.
REVIEWS: dict[str, tuple[float, Review]] = {
    "diabetes": (
        0.15,
        Review("Diabetes annual review", "Please bring a urine sample in the pot we sent you."),
    ),
    "copd": (0.15, Review("COPD annual review", "Please bring all your inhalers.")),
    "asthma": (0.1, Review("Asthma review", "Please bring all your inhalers.")),
    "heart-failure": (0.15, Review("Heart failure review", "")),
    "hypertension": (0.08, Review("Blood pressure check", "")),
}


def booked(rng: Random, conditions: set[str]) -> list[Review]:
    """The reviews booked for someone with these condition figures (at most one each)."""
    return [
        review
        for figure, (chance, review) in REVIEWS.items()
        if figure in conditions and rng.random() < chance
    ]
