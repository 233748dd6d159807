"""Short plain-English timeline texts for the synthetic population, built from templates.

Pure Python. Each function returns (title, text) and draws its variation from the caller's Random,
so the population stays deterministic for a seed.
"""

from random import Random

Text = tuple[str, str]

MODES = (
    ("Telephone consultation", 0.45),
    ("Face-to-face appointment", 0.45),
    ("Online consultation", 0.10),
)

# (title, history, examination, plan): general problems, by who usually brings them.
CHILD_PROBLEMS: tuple[tuple[str, str, str, str], ...] = (
    (
        "Fever and cough",
        "Two days of fever and cough, drinking well, passing urine.",
        "Alert and playful. Chest clear. Ears and throat normal.",
        "Viral illness. Fluids and paracetamol; parent given advice on when to seek help.",
    ),
    (
        "Earache",
        "Earache since last night, off food.",
        "Left eardrum red and bulging.",
        "Likely ear infection. Pain relief; no antibiotics for now, review if not better in 3 "
        "days.",
    ),
    (
        "Rash",
        "Itchy rash on arms and behind the knees for a month.",
        "Dry patches of eczema.",
        "Emollient and mild steroid cream. Reviewed how to apply them.",
    ),
    (
        "Tummy pain",
        "Tummy aches on and off for two weeks, normal bowels.",
        "Soft tummy, no tenderness.",
        "Reassured. Diary of symptoms; review if weight loss.",
    ),
    (
        "Sore throat",
        "Sore throat and fever for two days.",
        "Tonsils enlarged, no pus.",
        "Self-care advice. Safety-netting given to parent.",
    ),
)
ADULT_PROBLEMS: tuple[tuple[str, str, str, str], ...] = (
    (
        "Back pain",
        "Low back pain for a week after lifting, no numbness or bladder problems.",
        "Tender lower back muscles, moves freely, legs normal.",
        "Simple back pain. Keep active, pain relief; physiotherapy self-referral details given.",
    ),
    (
        "Sore throat",
        "Sore throat for four days, eating and drinking.",
        "Throat red, no pus.",
        "Viral. Self-care advice; return if not better in a week.",
    ),
    (
        "Cough",
        "Cough for ten days after a cold, no blood, not breathless.",
        "Chest clear.",
        "Post-viral cough. Reassured; chest X-ray if still present in three weeks.",
    ),
    (
        "Urinary symptoms",
        "Burning when passing urine for two days, no fever.",
        "Urine dip positive for nitrites.",
        "Urine infection. Three days of antibiotics.",
    ),
    (
        "Knee pain",
        "Right knee pain and stiffness, worse on stairs.",
        "Mild swelling, full movement, stable.",
        "Likely wear and tear. Exercises, weight advice; review in six weeks.",
    ),
    (
        "Headaches",
        "Headaches most days for a month, worse with screen use.",
        "Blood pressure normal. Eyes and nervous system normal.",
        "Tension-type headache. Optician check advised; headache diary.",
    ),
    (
        "Tiredness",
        "Tired all the time for two months, sleeping poorly.",
        "Examination normal.",
        "Blood tests arranged (blood count, thyroid, sugar). Follow up with results.",
    ),
    (
        "Skin rash",
        "Itchy red rash on the hands.",
        "Dry, cracked skin on both hands.",
        "Contact dermatitis. Emollient, avoid irritants, steroid cream for a week.",
    ),
    (
        "Dizziness",
        "Spinning dizziness when turning over in bed.",
        "Hallpike test positive.",
        "Benign positional vertigo. Epley manoeuvre done; exercises given.",
    ),
    (
        "Chest infection",
        "Cough with green phlegm and fever for five days.",
        "Crackles at the right base, oxygen 96%.",
        "Chest infection. Antibiotics; return if more breathless.",
    ),
    (
        "Indigestion",
        "Burning pain after meals for a month, no weight loss.",
        "Tummy soft, mild tenderness at the top.",
        "Reflux. Lifestyle advice and a month of acid-reducing tablets.",
    ),
    (
        "Sleep problems",
        "Struggling to get to sleep for six weeks.",
        "No red flags.",
        "Sleep hygiene advice; online sleep programme suggested.",
    ),
    (
        "Shoulder pain",
        "Left shoulder pain reaching overhead for a month.",
        "Painful arc, good strength.",
        "Rotator cuff irritation. Exercises; physiotherapy referral.",
    ),
    (
        "Medication review",
        "Reviewed repeat medicines; no side effects reported.",
        "Blood pressure checked.",
        "Repeat medicines continued for 12 months.",
    ),
)
CONDITION_PROBLEMS: dict[str, tuple[str, str, str, str]] = {
    "depression": (
        "Low mood",
        "Mood lower again for a few weeks; sleeping badly. No thoughts of self-harm.",
        "PHQ-9 completed.",
        "Talking Therapies self-referral details given; review in two weeks.",
    ),
    "anxiety": (
        "Anxiety",
        "Worry and panicky feelings most days, affecting work.",
        "Calm in the consultation.",
        "Talking Therapies self-referral suggested; breathing exercises discussed.",
    ),
    "copd": (
        "Breathlessness",
        "More breathless than usual for a week, more phlegm.",
        "Wheeze, oxygen 94%.",
        "Flare-up of COPD. Rescue pack started; review in 48 hours.",
    ),
    "asthma": (
        "Wheeze",
        "Using the reliever inhaler daily this month.",
        "Mild wheeze.",
        "Preventer inhaler increased; asthma plan updated.",
    ),
    "heart-failure": (
        "Swollen ankles",
        "Ankles more swollen and weight up 2 kg in a week.",
        "Pitting oedema to mid-shin.",
        "Water tablet increased; weigh daily.",
    ),
    "diabetes": (
        "Diabetes medicines",
        "Reviewed diabetes tablets; some stomach upset.",
        "Weight stable.",
        "Changed to slow-release tablets.",
    ),
    "chronic-pain": (
        "Pain review",
        "Ongoing pain, worse in cold weather; sleep affected.",
        "Moves slowly but independently.",
        "Pain management plan reviewed; pain clinic self-help course suggested.",
    ),
    "ibs": (
        "Bowel symptoms",
        "Bloating and loose stools on and off.",
        "Tummy soft.",
        "IBS flare. Diet advice and an antispasmodic.",
    ),
    "dementia": (
        "Memory review",
        "Seen with family. More forgetful; managing with support.",
        "Orientated to person and place.",
        "Care plan reviewed with family.",
    ),
    "coronary-heart-disease": (
        "Chest pain",
        "Occasional chest tightness on hills, eased by spray.",
        "Heart sounds normal.",
        "Stable angina. Referral for review.",
    ),
    "hypertension": (
        "Blood pressure check",
        "Home readings a little high.",
        "BP rechecked.",
        "Medicine dose adjusted; home readings in four weeks.",
    ),
}


def _mode(rng: Random) -> str:
    return rng.choices([m for m, _ in MODES], weights=[w for _, w in MODES])[0]


WORKING_AGE_PROBLEMS: tuple[tuple[str, str, str, str], ...] = (
    (
        "Fit note",
        "Review of recovery and return to work.",
        "Improving.",
        "Fit note for two more weeks with a phased return.",
    ),
)


def gp_consultation(rng: Random, *, age: int, condition_names: list[str]) -> Text:
    related = [name for name in condition_names if name in CONDITION_PROBLEMS]
    if related and rng.random() < 0.45:
        title, history, exam, plan = CONDITION_PROBLEMS[rng.choice(related)]
    elif age < 16:
        title, history, exam, plan = rng.choice(CHILD_PROBLEMS)
    else:
        working = WORKING_AGE_PROBLEMS if age < 67 else ()
        title, history, exam, plan = rng.choice(ADULT_PROBLEMS + working)
    mode = _mode(rng)
    if mode != "Face-to-face appointment":
        exam = "Not examined." if rng.random() < 0.5 else exam
    return f"GP: {title.lower()}", f"{mode}. {history} {exam} Plan: {plan}"


def diagnosis(display: str, plain: str, onset_text: str, summarised: bool) -> Text:
    if summarised:
        return (
            f"Diagnosis: {display}",
            f"{plain} Diagnosed {onset_text}; summarised from previous GP records.",
        )
    return f"Diagnosis: {display}", f"{plain} Diagnosed {onset_text}."


REVIEW_LINES: dict[str, str] = {
    "diabetes": "HbA1c {hba1c} mmol/mol. Feet checked: pulses present, sensation normal. "
    "Eye screening up to date.",
    "hypertension": "Blood pressure {bp} mmHg.",
    "asthma": "Inhaler technique checked. Reliever used {reliever} times a week. Asthma plan "
    "updated.",
    "copd": "Breathless walking uphill. FEV1 {fev1}% predicted. Inhaler technique good.",
    "coronary-heart-disease": "No chest pain on exertion. Taking statin and aspirin.",
    "heart-failure": "Weight stable, ankles mildly swollen. Sleeping on two pillows.",
    "stroke-tia": "No new symptoms. Taking blood thinner and statin.",
    "ckd": "eGFR {egfr} mL/min/1.73m2, stable. Blood pressure {bp} mmHg.",
}
REVIEW_TITLES: dict[str, str] = {
    "diabetes": "diabetes",
    "hypertension": "blood pressure",
    "asthma": "asthma",
    "copd": "COPD",
    "coronary-heart-disease": "heart disease",
    "heart-failure": "heart failure",
    "stroke-tia": "stroke",
    "ckd": "kidney",
}


def ltc_review(rng: Random, names: list[str], values: dict[str, str]) -> Text:
    lines = " ".join(REVIEW_LINES[n].format(**values) for n in names)
    plan = rng.choice(
        (
            "Self-management plan agreed. Review in 12 months.",
            "Discussed diet and activity; agreed goals. Review in 12 months.",
            "Medicines reviewed and continued. Flu vaccine given. Review in 12 months.",
            "Referred to the structured education course. Review in 6 months.",
        )
    )
    if len(names) == 1:
        title = f"Annual {REVIEW_TITLES[names[0]]} review"
    else:
        title = "Long-term conditions review: " + ", ".join(REVIEW_TITLES[n] for n in names)
    return title, f"Face-to-face review with the practice nurse. {lines} {plan}"


def hba1c_result(value: int) -> Text:
    verdict = (
        "At or below the usual target of 53 mmol/mol."
        if value <= 53
        else "Above target: treatment to be reviewed."
        if value >= 58
        else "Slightly above target."
    )
    return f"HbA1c {value} mmol/mol", f"HbA1c {value} mmol/mol. {verdict}"


def bp_result(systolic: int, diastolic: int, older: bool) -> Text:
    target = (150, 90) if older else (140, 90)
    ok = systolic < target[0] and diastolic < target[1]
    verdict = (
        f"Within target (below {target[0]}/{target[1]})."
        if ok
        else f"Above target ({target[0]}/{target[1]}): home readings requested."
    )
    return f"Blood pressure {systolic}/{diastolic} mmHg", f"Clinic reading. {verdict}"


def egfr_result(value: int) -> Text:
    return (
        f"eGFR {value} mL/min/1.73m2",
        f"Kidney function (eGFR) {value} mL/min/1.73m2; urine albumin checked.",
    )


def fev1_result(value: int) -> Text:
    severity = (
        "mild"
        if value >= 80
        else "moderate"
        if value >= 50
        else "severe"
        if value >= 30
        else "very severe"
    )
    return (
        f"Spirometry: FEV1 {value}% predicted",
        f"Post-bronchodilator FEV1 {value}% predicted ({severity} airflow obstruction).",
    )


CLINIC_LETTERS: dict[str, tuple[str, ...]] = {
    "clinic-diabetes": (
        "We reviewed insulin doses and sugar readings; HbA1c is improving. We have adjusted the "
        "evening dose and will see {given} again in six months.",
        "Glucose sensor started; {given} is confident using it. Review in four months.",
    ),
    "clinic-heart-failure": (
        "Echocardiogram shows reduced heart pumping. We have started a new heart failure medicine; "
        "please check kidney function and potassium in two weeks.",
        "{given} is stable on current treatment. The heart failure nurses will follow up at home.",
    ),
    "clinic-respiratory": (
        "Lung function confirms COPD. We have changed inhalers and referred {given} to pulmonary "
        "rehabilitation.",
        "Asthma is not well controlled; we have started a combination inhaler. Review in 3 months.",
    ),
    "clinic-renal": (
        "Kidney function has been stable over the year. Please continue the current blood pressure "
        "treatment and check bloods every three months.",
        "We discussed future kidney treatment options with {given} and family.",
    ),
    "clinic-oncology": (
        "Follow-up after treatment: no sign of the cancer returning on the latest scan. Next "
        "review "
        "in six months.",
        "{given} is part-way through treatment and coping well; side effects are mild.",
    ),
    "clinic-stroke": (
        "Seen after a transient ischaemic attack. Brain scan normal. Started on clopidogrel and a "
        "statin; no driving for one month.",
        "Good recovery after the stroke; some tiredness. Community therapy continues.",
    ),
    "clinic-rheumatology": (
        "Joints settled on methotrexate. Please continue monitoring bloods every three months.",
        "Flare of arthritis; steroid injection given and treatment increased.",
    ),
    "memory": (
        "Memory assessment completed with {given} and family. The findings fit with dementia. We "
        "have discussed support, and the memory nurse will follow up.",
    ),
}
SPECIALTY: dict[str, str] = {
    "clinic-diabetes": "Diabetologist",
    "clinic-heart-failure": "Cardiologist",
    "clinic-respiratory": "Respiratory Physician",
    "clinic-renal": "Nephrologist",
    "clinic-oncology": "Oncologist",
    "clinic-stroke": "Stroke Physician",
    "clinic-rheumatology": "Rheumatologist",
    "memory": "Old Age Psychiatrist",
}


def clinic_letter(
    rng: Random,
    *,
    service: str,
    service_name: str,
    given: str,
    family: str,
    gp: str,
    consultant: str,
) -> Text:
    body = rng.choice(CLINIC_LETTERS[service]).format(given=given)
    return (
        f"Letter: {service_name}",
        f"Dear Dr {gp}, I saw {given} {family} in clinic. {body} Yours sincerely, "
        f"Dr {consultant}, Consultant {SPECIALTY[service]}.",
    )


_LOW_MOOD = "guided self-help based on CBT for low mood (behavioural activation)"
_WORRY = "guided self-help for worry (worry time and problem solving)"
_PANIC = "guided self-help for panic (understanding the panic cycle)"
# The NICE-recommended treatment for each problem, by its SNOMED CT code: at step 2 (guided
# self-help with a psychological wellbeing practitioner; None where NICE recommends none, as for
# PTSD) and the choices at step 3 (high-intensity therapy).
THERAPIES: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "35489007": (_LOW_MOOD, ("CBT for depression", "counselling for depression")),
    "370143000": (_LOW_MOOD, ("CBT for depression", "behavioural activation for depression")),
    "21897009": (_WORRY, ("CBT for generalised anxiety",)),
    "371631005": (_PANIC, ("CBT for panic disorder",)),
    "70691001": (_PANIC, ("CBT for agoraphobia",)),
    "25501002": (_WORRY, ("CBT for social anxiety",)),
    "47505003": (None, ("trauma-focused CBT for PTSD", "EMDR for PTSD")),
    "191736004": (
        "guided self-help for OCD (exposure and response prevention)",
        ("CBT with exposure and response prevention for OCD",),
    ),
}
SESSION_WORK = (
    "Reviewed the activity diary; planned three valued activities for the week.",
    "Worked on noticing and testing anxious predictions.",
    "Practised problem solving on a current worry about money.",
    "Reviewed sleep routine and agreed a wind-down plan.",
    "Looked at unhelpful thinking patterns using a thought record.",
    "Planned a graded approach to situations being avoided.",
    "Discussed progress and setbacks; updated the relapse prevention plan.",
)


def therapy_assessment(
    *, problem: str, phq9: int, gad7: int, ltc: str | None, step_two: bool
) -> Text:
    context = f" Living with {ltc}, which affects mood and activity." if ltc else ""
    plan = (
        "Agreed guided self-help with a psychological wellbeing practitioner."
        if step_two
        else "Agreed a course of high-intensity therapy; placed on the waiting list."
    )
    return (
        "Talking Therapies assessment",
        f"Assessment by telephone. Main problem: {problem.lower()}, for several months.{context} "
        f"PHQ-9 {phq9}, GAD-7 {gad7}. No current risk to self or others. {plan}",
    )


def therapy_session(rng: Random, *, number: int, therapy: str, phq9: int, gad7: int) -> Text:
    return (
        f"Therapy session {number}",
        f"Session {number} of {therapy}. PHQ-9 {phq9}, GAD-7 {gad7}. {rng.choice(SESSION_WORK)}",
    )


def therapy_discharge(
    *, sessions: int, therapy: str, start: tuple[int, int], end: tuple[int, int], completed: bool
) -> Text:
    outcome = (
        "recovered"
        if end[0] < 10 and end[1] < 8
        else "improved"
        if end[0] <= start[0] - 6
        else "not improved"
    )
    how = f"Completed {sessions} sessions" if completed else f"Stopped after {sessions} sessions"
    return (
        "Talking Therapies discharge summary",
        f"{how} of {therapy}. PHQ-9 {start[0]} to {end[0]}, GAD-7 {start[1]} to {end[1]}: "
        f"{outcome}. Discharged back to the GP; self-referral welcome at any time.",
    )


def cmht_review(rng: Random) -> Text:
    return (
        "Psychiatry outpatient review",
        rng.choice(
            (
                "Settled. No psychotic symptoms reported. Taking medication regularly. Weight and "
                "bloods checked. Continue; review in six months.",
                "Some stress at home; sleep poor. No risk concerns. Medication unchanged; care "
                "coordinator to increase contact.",
                "Mood stable. Discussed reducing medication slowly; agreed to wait until after the "
                "winter.",
            )
        ),
    )


def mental_health_nurse_contact(rng: Random) -> Text:
    return (
        "Care coordinator visit",
        rng.choice(
            (
                "Home visit. Mental state settled; managing well. Depot injection given.",
                "Met in the community. Discussed benefits forms and a volunteering place.",
                "Telephone contact. Low in mood this week; coping plan reviewed. No risk concerns.",
                "Care plan review with family present; crisis plan updated.",
            )
        ),
    )


def peer_support(rng: Random, given: str) -> Text:
    return (
        "Peer support session",
        rng.choice(
            (
                f"Met {given} at the café; talked about routines that help. Walking group next "
                "week.",
                f"Went with {given} to the library to look at courses.",
                f"Telephone check-in; {given} is finding the wellbeing group useful.",
            )
        ),
    )


def social_care_assessment(rng: Random, needs: list[str], given: str) -> Text:
    return (
        "Care Act assessment",
        f"Assessment at home with {given}"
        + rng.choice(("", " and daughter", " and son", " and partner"))
        + f". Needs: {', '.join(needs).lower()}. Eligible needs identified; support plan agreed "
        "and personal budget confirmed.",
    )


def social_care_review(rng: Random, given: str) -> Text:
    return (
        "Social care review",
        rng.choice(
            (
                f"Annual review. {given} is happy with the support; no changes needed.",
                "Review after a fall. Care increased to four calls a day.",
                "Review: carer under strain; carer's assessment offered and respite arranged.",
            )
        ),
    )


HOMECARE_CALLS = (
    ("Morning call", 8, "Helped {given} wash and dress; breakfast made; medication prompted."),
    ("Lunch call", 12, "Meal prepared and eaten well. {given} in good spirits."),
    ("Evening call", 19, "Helped {given} to bed; skin checked, no red areas."),
    ("Morning call", 8, "{given} a little confused today; family and GP informed."),
)


def homecare_visit(rng: Random, given: str) -> tuple[Text, int]:
    """The note and the hour of the call it records."""
    call, hour, text = rng.choice(HOMECARE_CALLS)
    return (f"Homecare visit: {call.lower()}", f"{call}. {text.format(given=given)}"), hour


def district_nurse_visit(rng: Random) -> Text:
    title, text = rng.choice(
        (
            ("leg ulcer dressing", "Leg ulcer cleaned and re-dressed; healing well."),
            (
                "pressure area care",
                "Heels and sacrum checked; skin intact. Pressure cushion in use.",
            ),
            ("insulin", "Insulin given; blood sugar 8.4 mmol/L."),
            ("catheter care", "Catheter changed without problems."),
            ("blood test", "Bloods taken at home for the GP."),
            ("wound care", "Wound reviewed and dressed; no sign of infection."),
        )
    )
    return f"District nurse visit: {title}", text


def rapid_response(rng: Random, day: int) -> Text:
    if day == 0:
        return "Home First rapid response", rng.choice(
            (
                "Seen within two hours after a fall at home; no injury. Unable to manage stairs "
                "today. Urgent care package started to avoid a hospital admission.",
                "Urgent visit: more confused with a urine infection. Antibiotics started; fluids "
                "encouraged; daily visits for three days.",
            )
        )
    return "Home First follow-up", rng.choice(
        (
            "Much improved. Walking with a frame; equipment delivered.",
            "Steadier today. Family staying for the weekend; plan to step down care.",
        )
    )


def therapy_contact(rng: Random, discipline: str) -> Text:
    if discipline == "occupational-therapist":
        return "Occupational therapy", rng.choice(
            (
                "Home assessment. Grab rails and a perching stool ordered; bath board fitted.",
                "Kitchen practice: making a hot drink safely with a trolley.",
                "Reviewed equipment; managing transfers independently.",
            )
        )
    return "Physiotherapy", rng.choice(
        (
            "Falls prevention exercises taught; walking with a stick outdoors.",
            "Strength and balance class, week 4: improving.",
            "Reviewed home exercises; stairs practised safely.",
        )
    )


def medication_review(rng: Random, count: int) -> Text:
    return (
        "Structured medication review",
        f"Reviewed {count} repeat medicines with the person. "
        + rng.choice(
            (
                "Stopped one no longer needed; explained the changes.",
                "Doses simplified to once a day; blister pack arranged.",
                "No changes; checked understanding of each medicine.",
            )
        ),
    )


def voluntary_note(rng: Random, given: str) -> Text:
    return (
        "Community connector",
        rng.choice(
            (
                f"Met {given} for a coffee; linked to the lunch club at the community centre.",
                f"Helped {given} apply for a blue badge and attendance allowance.",
                f"{given} has started the Tuesday walking group and enjoys it.",
                "Carer support: respite options and the carers' café discussed.",
            )
        ),
    )


def care_coordination(rng: Random) -> Text:
    return (
        "Multidisciplinary team meeting",
        rng.choice(
            (
                "Discussed at the integrated team meeting; care plan updated and shared.",
                "Anticipatory care plan reviewed with GP, district nurse and social worker.",
                "Hospital discharge plan agreed; services restarted on day of discharge.",
            )
        ),
    )


def safeguarding(rng: Random, first: bool) -> Text:
    if first:
        return "Safeguarding concern", rng.choice(
            (
                "Concern raised by the homecare worker about unexplained bruising. Section 42 "
                "enquiry opened; person's wishes sought.",
                "Concern about financial abuse by a relative. Enquiry opened; bank contacted with "
                "the person's agreement.",
                "Self-neglect: home cold and little food. Multi-agency meeting arranged.",
            )
        )
    return "Safeguarding update", rng.choice(
        (
            "Enquiry progressing; protection plan agreed with the person.",
            "Enquiry closed: risk reduced, plan in place and reviewed.",
        )
    )


def sexual_health(rng: Random) -> Text:
    return "Sexual health consultation", rng.choice(
        (
            "Contraception review. Screening for infections offered and accepted.",
            "Symptoms discussed; tests taken. Results to be given by text.",
        )
    )
