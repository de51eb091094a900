"""The categories gmsim's people carry, and the integer codes they are stored as.

Every categorical attribute is a small integer in the people arrays; the tuples here give the label of
each code, in order. They are the one place where a level's position is defined.
"""

from __future__ import annotations

BOROUGHS = (
    "Bolton",
    "Bury",
    "Manchester",
    "Oldham",
    "Rochdale",
    "Salford",
    "Stockport",
    "Tameside",
    "Trafford",
    "Wigan",
)

# Labour states. at_risk: employed but off sick on a fit note, or struggling at work with a health
# condition. out_of_work: not working and able or wanting to work with support (usually claiming).
# inactive_other: students, carers, the early retired, outside the programmes' targets.
STATES = ("in_work", "at_risk", "out_of_work", "inactive_other")
IN_WORK, AT_RISK, OUT_OF_WORK, INACTIVE = range(4)

SEVERITIES = ("none", "mild", "moderate", "complex")
NO_CONDITION, MILD, MODERATE, COMPLEX = range(4)

CONDITIONS = ("none", "mental_health", "musculoskeletal", "other", "multiple")
MENTAL_HEALTH, MUSCULOSKELETAL, OTHER_CONDITION, MULTIPLE = 1, 2, 3, 4

SEXES = ("female", "male")
SKILLS = ("low", "medium", "high")

# none; JSA or UC searching for work; ESA work-related activity group or UC limited capability for work;
# ESA support group or UC limited capability for work and work-related activity.
BENEFITS = ("none", "jobseeker", "limited_capability", "support_group")
NO_BENEFIT, JOBSEEKER, LIMITED_CAPABILITY, SUPPORT_GROUP = range(4)
# The benefit a claimant is assessed onto, by severity of their condition (Work Capability Assessment).
BENEFIT_FOR_SEVERITY = (JOBSEEKER, JOBSEEKER, LIMITED_CAPABILITY, SUPPORT_GROUP)
# health_claim_start of a person who has never made a health-related claim.
NO_CLAIM = -1_000_000

EMPLOYER_SIZES = ("none", "micro", "small", "medium", "large")
# Employers' broad industry sectors (SIC 2007 sections grouped; data/sectors.yaml).
SECTORS = (
    "production",
    "construction",
    "wholesale_retail",
    "transport_storage",
    "accommodation_food",
    "business_services",
    "public_admin_education",
    "health_social_work",
    "arts_other_services",
)

AGE_BANDS = ("16-24", "25-34", "35-49", "50-64")
#: A hire's age group for their sector (``geography.sector_mix_by_age``): 0 under this age in months, else 1.
YOUNG_HIRE_MONTHS = 25 * 12
AGE_BAND_LOWER_YEARS = (16, 25, 35, 50)

# Months in the current state.
DURATION_BANDS = ("0-5", "6-11", "12-23", "24-59", "60+")
DURATION_BAND_LOWER_MONTHS = (0, 6, 12, 24, 60)

OCCUPATIONAL_HEALTH = ("no", "yes")

# Out-of-work duration bands reported in the results (months).
SPELL_BANDS = ("<6m", "6-12m", "1-2y", "2-5y", "5y+")

# A person's status in one intervention (docs/model.md section 7.4): the referred wait, start support, then
# have after-effects, or in-work support after a job entry, and are done; a waiting person may drop out.
PARTICIPATION = ("none", "waiting", "supported", "in_work_support", "after", "done")
NOT_REFERRED, WAITING, SUPPORTED, IN_WORK_SUPPORT, AFTER, DONE = range(6)
# An intervention's month records hold this where something has not happened.
NEVER = -32768

# Monthly transitions with a hazard. Labour transitions first (index = destination order within the
# origin state), then health events.
TRANSITIONS = (
    "in_work_to_at_risk",
    "in_work_to_out_of_work",
    "in_work_to_inactive",
    "at_risk_to_in_work",
    "at_risk_to_out_of_work",
    "at_risk_to_inactive",
    "out_of_work_to_in_work",
    "out_of_work_to_inactive",
    "inactive_to_in_work",
    "inactive_to_out_of_work",
    "onset_mental_health",
    "onset_musculoskeletal",
    "onset_other",
    "health_worsening",
    "health_recovery",
)
T = {name: i for i, name in enumerate(TRANSITIONS)}
#: The moves that bring a person closer to work or better health: help works by raising their hazards (a
#: ratio above 1), and by lowering those of every other move (a ratio below 1).
IMPROVING = (
    "at_risk_to_in_work",
    "out_of_work_to_in_work",
    "inactive_to_in_work",
    "inactive_to_out_of_work",
    "health_recovery",
)
LABOUR_FROM = (IN_WORK, IN_WORK, IN_WORK, AT_RISK, AT_RISK, AT_RISK, OUT_OF_WORK, OUT_OF_WORK, INACTIVE, INACTIVE)
LABOUR_TO = (AT_RISK, OUT_OF_WORK, INACTIVE, IN_WORK, OUT_OF_WORK, INACTIVE, IN_WORK, INACTIVE, IN_WORK, OUT_OF_WORK)
N_LABOUR = len(LABOUR_FROM)
#: For each labour transition, whether it leaves work (from in_work or at_risk into out_of_work or inactivity).
LEAVES_WORK = tuple(LABOUR_FROM[t] <= AT_RISK and LABOUR_TO[t] >= OUT_OF_WORK for t in range(N_LABOUR))

# The person attributes a hazard can depend on, in the order of the factor tables' first axis.
DIMENSIONS = {
    "state": STATES,
    "severity": SEVERITIES,
    "condition": CONDITIONS,
    "age_band": AGE_BANDS,
    "sex": SEXES,
    "borough": BOROUGHS,
    "skills": SKILLS,
    "benefit": BENEFITS,
    "duration_band": DURATION_BANDS,
    "employer_size": EMPLOYER_SIZES,
    "occupational_health": OCCUPATIONAL_HEALTH,
}
DIM_INDEX = {name: i for i, name in enumerate(DIMENSIONS)}
MAX_LEVELS = max(len(levels) for levels in DIMENSIONS.values())

# The dimensions in three groups: a hazard is base x one ratio per group x intervention multiplier,
# each ratio read from a table precomputed over the group's combined levels (row-major in this order).
HAZARD_GROUPS = (
    ("state", "severity", "condition", "age_band"),
    ("sex", "borough", "skills"),
    ("benefit", "duration_band", "employer_size", "occupational_health"),
)
