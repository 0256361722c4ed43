"""Tailors the scripted interview to a candidate's CV and job description: keywords and an opener.

Everything here is plain word matching: no model, the same answer for the same texts. The CV is
personal data, so only a short term from it is ever spoken back, and anything that looks like an
email address, phone number or web address is removed before a term is chosen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.question_bank import Question

MAX_TERM_WORDS = 3
MAX_TERM_CHARS = 32
OPENER_TEMPLATE = "I see {term} on your CV. Tell me about a time you used it and what came of it."

# Common English words, the boilerplate of job adverts and CVs, and the wording every interview
# question shares: none of them says what a job or a question is about.
STOP_WORDS = frozenset(
    """
    a about above across after again against all also am an and any are around as at be
    because been before being below between both but by can could did do does doing done
    down during each either etc even ever every few for from further get gets getting give
    go going good got great had has have having he her here hers him his how however i if in
    into is it its itself just least less like made make makes making many may me might more
    most much must my new no nor not now of off often on once one only or other our ours out
    over own per plus rather really same she should since so some such than that the their
    theirs them then there these they this those through to too under until up upon us use
    used uses using very via was we well were what when where whether which while who whom
    whose why will with within without would yet you your yours yourself
    ability able apply applicant applicants benefit benefits best candidate candidates
    company career day days degree desirable description duties environment essential
    excellent experience experienced expert help hire hiring ideal ideally including job jobs
    join key knowledge level looking minimum month months need needed offer opportunity
    plus position preferred proven qualification qualifications related relevant require
    required requirement requirements responsibilities responsibility responsible role roles
    salary skill skilled skills strong successful team teams understanding want week weeks
    work worked working works year years
    answer ask asked describe example explain give happened handle handled how moment
    question questions share tell thing things think time times told walk way ways would
    curriculum vitae cv resume profile summary education employment history references
    contact email phone address linkedin github objective interests hobbies languages
    senior junior lead principal staff head manager managers engineer engineers developer
    developers analyst analysts associate assistant intern internship director officer
    consultant specialist coordinator executive member members
    january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec present current currently
    monday tuesday wednesday thursday friday saturday sunday
    ba bs bsc ms msc ma mba phd md mbbs gcse gcses hons gpa ltd inc llc plc uk us usa eu
    ceo cto cfo coo vp svp evp ok pm n/a tbd
    """.split()
)

# Skills and practices a CV names, lowercase; phrases of up to three words. A term found in both
# the CV and the job description is the best opener; any of these in the CV is the next best.
KNOWN_SKILLS = frozenset(
    """
    python java javascript typescript golang kotlin scala php sql nosql c++ c#
    angular vue django flask fastapi graphql grpc
    kubernetes docker terraform ansible aws azure gcp linux kafka spark hadoop airflow
    postgresql postgres mysql mongodb redis elasticsearch snowflake bigquery dbt
    microservices observability monitoring prometheus grafana ci/cd devops sre
    pandas numpy tableau looker powerbi statistics forecasting regression
    salesforce hubspot crm negotiation prospecting
    jira figma roadmap roadmaps okrs scrum agile kanban
    recruiting onboarding payroll
    """.split()
) | frozenset(
    (
        "incident response",
        "incident management",
        "on-call",
        "site reliability",
        "distributed systems",
        "system design",
        "machine learning",
        "deep learning",
        "data analysis",
        "data modelling",
        "data modeling",
        "data pipelines",
        "data visualisation",
        "data visualization",
        "a/b testing",
        "experimentation",
        "product discovery",
        "product strategy",
        "user research",
        "go-to-market",
        "stakeholder management",
        "project management",
        "account management",
        "customer success",
        "pipeline management",
        "lead generation",
        "cold calling",
        "employee relations",
        "talent acquisition",
        "performance management",
        "patient care",
        "clinical placement",
        "first aid",
        "volunteering",
        "research project",
        "public speaking",
        "budgeting",
        "financial modelling",
    )
)

# Skills that are also everyday words or names: they count only when written capitalised.
CASED_SKILLS = frozenset("React Swift Rust Ruby Rails Excel Go".split())

_KEYWORD = re.compile(r"[a-z0-9][a-z0-9+#]*")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|io|dev|co|uk|me|ai|app|edu|gov|info|biz)\b(?:/\S*)?",
    re.IGNORECASE,
)
_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")
_HANDLE = re.compile(r"@\w+")
# A written term: letters first, then letters, digits and the joiners of names like CI/CD or C++.
_TERM = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[/-][A-Za-z0-9]+)*[+#]*")
_SAFE_TERM = re.compile(r"^[A-Za-z][A-Za-z0-9+#/ -]*$")
_LONG_NUMBER = re.compile(r"\d{4,}")
_MID_SENTENCE = re.compile(r"[a-z0-9,]\s+$")
_SURNAME_PREFIX = re.compile(r"^(?:Mc|Mac|De|Di|Da|La|Le|Van|Von)[A-Z]")


def _phrases_pattern(phrases: frozenset[str], flags: int = 0) -> re.Pattern[str]:
    """One regex for any of the phrases as whole words (any whitespace between), longest first."""
    alternatives = (
        r"\s+".join(re.escape(w) for w in phrase.split())
        for phrase in sorted(phrases, key=lambda p: (-len(p), p))
    )
    return re.compile(rf"(?<![\w+#/-])(?:{'|'.join(alternatives)})(?![\w+#/-])", flags)


_KNOWN_SKILL = _phrases_pattern(KNOWN_SKILLS, re.IGNORECASE)
_CASED_SKILL = _phrases_pattern(CASED_SKILLS)


def keywords(text: str | None) -> frozenset[str]:
    """The content words of a text: lowercased, plurals folded, stop-words left out."""
    if not text:
        return frozenset()
    words = (_fold(w) for w in _KEYWORD.findall(text.lower()))
    return frozenset(w for w in words if len(w) > 1 and w not in STOP_WORDS)


def question_keywords(question: Question) -> frozenset[str]:
    """What a bank question is about: the words of its text, subcategory, hints and industries."""
    tags = (question.subcategory.replace("_", " "), *question.industries)
    return keywords(" ".join((question.text, *tags, *question.hints)))


def redact(text: str) -> str:
    """The text without anything that looks like an email, a web address or a phone number."""
    for pattern in (_EMAIL, _URL, _PHONE, _HANDLE):
        text = pattern.sub(" ", text)
    return text


def opener_term(cv_text: str | None, jd_text: str | None = None) -> str | None:
    """A short skill or term from the CV to ask about: one the job description names if any."""
    if not cv_text:
        return None
    found = _cv_terms(redact(cv_text))
    jd = f" {_spoken_key(redact(jd_text or ''))} "
    in_jd = [t for t in found if f" {_spoken_key(t.text)} " in jd]
    # A capitalised word alone might be a name or an employer: only asked about if the JD has it.
    pick = in_jd or [t for t in found if t.rank < _CAPITALISED]
    # Named tools (written capitalised: Kubernetes, SQL) before practices (on-call), then CV order.
    return min(pick, key=lambda t: (t.rank, not t.text[0].isupper(), t.position)).text if pick else None


def tailored_opener(cv_text: str | None, jd_text: str | None = None) -> str | None:
    """The question that opens the interview on something in the CV; None without a CV term."""
    term = opener_term(cv_text, jd_text)
    return None if term is None else OPENER_TEMPLATE.format(term=term)


@dataclass(frozen=True, slots=True)
class Tailoring:
    """What a candidate's CV and job description tell the interviewer: keywords and an opener."""

    jd_keywords: frozenset[str] = frozenset()
    cv_keywords: frozenset[str] = frozenset()
    opener: str | None = None

    @classmethod
    def from_texts(cls, cv_text: str | None, jd_text: str | None) -> Tailoring:
        return cls(keywords(jd_text), keywords(cv_text), tailored_opener(cv_text, jd_text))

    @property
    def active(self) -> bool:
        """Whether there is anything to tailor by."""
        return bool(self.jd_keywords or self.cv_keywords)

    def relevance(self, question: Question) -> int:
        """How much a question is about the job and the candidate: JD words count double."""
        about = question_keywords(question)
        return 2 * len(about & self.jd_keywords) + len(about & self.cv_keywords)


# -- picking a term from the CV -------------------------------------------------------

_SKILL, _SPECIFIC, _CAPITALISED = 0, 1, 2


@dataclass(frozen=True, slots=True)
class _Term:
    text: str
    rank: int  # _SKILL, _SPECIFIC or _CAPITALISED: lower is a safer, more telling term
    position: int


def _cv_terms(cv: str) -> list[_Term]:
    """Known skills, specific-looking terms (CI/CD, AWS, PostgreSQL) and capitalised words."""
    stripped = cv.lstrip()
    # On a CV of several lines the first is usually the candidate's name.
    header_end = len(cv) - len(stripped) + len(stripped.split("\n", 1)[0]) if "\n" in stripped else 0

    def mid_sentence(at: int) -> bool:
        return bool(_MID_SENTENCE.search(cv[max(0, at - 8) : at]))

    terms: list[_Term] = []
    seen: set[str] = set()
    for match in _KNOWN_SKILL.finditer(cv):
        written = " ".join(match.group().split())
        if written.lower() not in seen:
            seen.add(written.lower())
            terms.append(_Term(written, _SKILL, match.start()))
    for match in _CASED_SKILL.finditer(cv):
        if match.group() not in seen and match.start() >= header_end and mid_sentence(match.start()):
            seen.add(match.group())
            terms.append(_Term(match.group(), _SKILL, match.start()))
    for match in _TERM.finditer(cv):
        word, at = match.group(), match.start()
        lowered = word.lower()
        if at < header_end or _fold(lowered) in STOP_WORDS or lowered in KNOWN_SKILLS or word in CASED_SKILLS:
            continue
        if _looks_specific(word):
            terms.append(_Term(word, _SPECIFIC, at))
        elif word[0].isupper() and mid_sentence(at):
            terms.append(_Term(word, _CAPITALISED, at))
    return [t for t in terms if _usable(t.text)]


def _looks_specific(word: str) -> bool:
    """An acronym (AWS), a name with inner capitals (PostgreSQL) or symbols (C++, CI/CD, EC2)."""
    letters = [c for c in word if c.isalpha()]
    acronym = 2 <= len(letters) <= 5 and all(c.isupper() for c in letters)
    inner_capital = (
        any(c.isupper() for c in word[1:])
        and any(c.islower() for c in word)
        and not _SURNAME_PREFIX.match(word)
    )
    symbols = any(c in "+#/" for c in word) or (any(c.isdigit() for c in word) and len(letters) >= 2)
    return acronym or inner_capital or symbols


def _usable(term: str) -> bool:
    """Short, plain and free of anything like a number someone could be reached on."""
    return (
        len(term) <= MAX_TERM_CHARS
        and len(term.split()) <= MAX_TERM_WORDS
        and bool(_SAFE_TERM.match(term))
        and not _LONG_NUMBER.search(term)
    )


def _spoken_key(text: str) -> str:
    """The text as folded keywords separated by spaces, to find one term inside another text."""
    return " ".join(_fold(w) for w in _KEYWORD.findall(text.lower()))


def _fold(word: str) -> str:
    """A light plural fold (incidents: incident), so singular and plural match."""
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word
