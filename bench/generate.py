"""Deterministic synthetic inputs for the benchmarks: a vocabulary, a corpus and a graph.

Everything here is a pure function of a seed, so two runs of the suite measure the same bytes.

* :func:`make_vocabulary` combines the real SKOS vocabulary (``ontology/vocabulary.ttl``, when it
  exists) with thousands of generated skill, tool, venue and role names, and can write it as a SKOS
  Turtle file of the same shape (:func:`write_vocabulary`).
* :func:`write_corpus` writes N documents in the two layouts the build reads: flat career guides
  (heading lines, ``- `` bullets, prose, ladders, salary lines; like ``data/documents/*.txt``) and
  Markdown job postings (``# Title``, ``## Minimum qualifications``, a salary range).
* :func:`write_graph` writes N-Triples of the shape of ``docs/data-model.md`` (roles, skills,
  tools, venues, stages, reified facts with evidence, documents, salaries, ``progressesTo``
  ladders) of about a given size, line by line (no rdflib: 5M triples take seconds, not minutes).

Generated files are cached under ``bench/.cache/`` (:func:`cached_graph`, :func:`cached_corpus`).

Examples
--------
>>> vocab = make_vocabulary(seed=1, generated=True)
>>> len(vocab.terms("tool")) > 1000
True
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = Path(__file__).resolve().parent / ".cache"
VOCABULARY_FILE = ROOT / "ontology" / "vocabulary.ttl"

ONT = "https://w3id.org/mlkg/ontology#"
ID = "https://w3id.org/mlkg/id/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
SCHEMA = "https://schema.org/"
PROV = "http://www.w3.org/ns/prov#"
DCT = "http://purl.org/dc/terms/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"
SCHEME = "https://w3id.org/mlkg/vocabulary"

# entity kind (IRI path segment) -> class local name, per docs/data-model.md
KIND_CLASS = {
    "role": "Role",
    "skill": "TechnicalSkill",
    "softskill": "SoftSkill",  # bench-internal kind; IRIs use "skill/"
    "tool": "Tool",
    "language": "ProgrammingLanguage",
    "venue": "Venue",
    "stage": "CareerStage",
    "degree": "Degree",
    "field": "FieldOfStudy",
    "area": "ResearchArea",
    "organization": "Organization",
    "industry": "Industry",
}
CLASS_KIND = {cls: kind for kind, cls in KIND_CLASS.items()}
IRI_KIND = {"softskill": "skill"}

# A few real names per kind, used when ontology/vocabulary.ttl is not there (yet).
FALLBACK_TERMS: dict[str, list[str]] = {
    "skill": [
        "machine learning",
        "deep learning",
        "statistics",
        "linear algebra",
        "probability",
        "computer vision",
        "natural language processing",
        "reinforcement learning",
        "data analysis",
        "data visualization",
        "feature engineering",
        "model evaluation",
        "experimental design",
        "optimization",
        "signal processing",
        "time series analysis",
        "causal inference",
        "Bayesian inference",
        "distributed systems",
        "MLOps",
    ],
    "softskill": [
        "communication",
        "leadership",
        "teamwork",
        "problem solving",
        "critical thinking",
        "mentoring",
        "collaboration",
        "creativity",
        "project management",
        "time management",
    ],
    "tool": [
        "PyTorch",
        "TensorFlow",
        "Keras",
        "scikit-learn",
        "JAX",
        "Hugging Face Transformers",
        "NumPy",
        "pandas",
        "Jupyter",
        "Git",
        "Docker",
        "Kubernetes",
        "Apache Spark",
        "MLflow",
        "Weights & Biases",
        "CUDA",
        "RStudio",
        "Tableau",
        "AWS SageMaker",
        "Airflow",
    ],
    "language": ["Python", "R", "MATLAB", "C++", "Java", "Julia", "Scala", "SQL", "Go", "Rust"],
    "venue": [
        "NeurIPS",
        "ICML",
        "ICLR",
        "CVPR",
        "ICCV",
        "ECCV",
        "ACL",
        "EMNLP",
        "NAACL",
        "KDD",
        "AAAI",
        "IJCAI",
        "AISTATS",
        "UAI",
        "COLT",
        "JMLR",
        "TPAMI",
        "SIGIR",
        "WWW",
        "Interspeech",
    ],
    "stage": ["Entry-Level", "Mid-Level", "Senior-Level", "Leadership", "Executive"],
    "degree": ["PhD", "Master's degree", "Bachelor's degree"],
    "field": [
        "Computer Science",
        "Mathematics",
        "Statistics",
        "Physics",
        "Electrical Engineering",
        "Data Science",
        "Operations Research",
        "Cognitive Science",
        "Neuroscience",
        "Computational Linguistics",
    ],
    "area": [
        "computer vision",
        "natural language processing",
        "reinforcement learning",
        "speech recognition",
        "recommender systems",
        "generative models",
        "robotics",
        "graph neural networks",
        "model compression",
        "AI safety",
    ],
    "organization": [
        "Google",
        "Meta",
        "Amazon",
        "Apple",
        "Microsoft",
        "OpenAI",
        "DeepMind",
        "Netflix",
        "IBM",
        "NVIDIA",
        "Anthropic",
        "Uber",
        "Airbnb",
        "Spotify",
        "Salesforce",
    ],
    "industry": [
        "healthcare",
        "finance",
        "retail",
        "automotive",
        "consulting",
        "education",
        "manufacturing",
        "telecommunications",
        "energy",
        "e-commerce",
    ],
    "role": [
        "Research Scientist",
        "Machine Learning Engineer",
        "Data Scientist",
        "Research Engineer",
        "Applied Scientist",
        "AI Researcher",
        "NLP Engineer",
        "Computer Vision Engineer",
        "MLOps Engineer",
        "Data Engineer",
        "Research Director",
    ],
}

_ADJ = [
    "Bayesian",
    "causal",
    "federated",
    "sparse",
    "robust",
    "multimodal",
    "self-supervised",
    "contrastive",
    "probabilistic",
    "distributed",
    "geometric",
    "quantum",
    "adversarial",
    "few-shot",
    "continual",
    "hierarchical",
    "temporal",
    "spectral",
    "differentiable",
    "interpretable",
    "efficient",
    "online",
    "generative",
    "variational",
    "equivariant",
]
_DOMAIN = [
    "graph",
    "time-series",
    "tabular",
    "image",
    "language",
    "audio",
    "video",
    "3D",
    "medical",
    "genomic",
    "molecular",
    "geospatial",
    "sensor",
    "code",
    "document",
    "retail",
    "financial",
]
_NOUN = [
    "inference",
    "optimization",
    "retrieval",
    "segmentation",
    "forecasting",
    "ranking",
    "compression",
    "alignment",
    "representation learning",
    "anomaly detection",
    "data augmentation",
    "model evaluation",
    "active learning",
    "program synthesis",
    "recognition",
    "object detection",
    "clustering",
    "embedding",
    "simulation",
    "reasoning",
]
_TOOL_A = [
    "Tensor",
    "Torch",
    "Deep",
    "Data",
    "Graph",
    "Neuro",
    "Vector",
    "Flow",
    "Spark",
    "Quant",
    "Hyper",
    "Meta",
    "Auto",
    "Lumen",
    "Cortex",
    "Kern",
    "Sigma",
    "Delta",
    "Astra",
    "Nova",
    "Pixel",
    "Token",
    "Feature",
    "Model",
    "Signal",
    "Shard",
    "Cloud",
    "Edge",
    "Batch",
    "Lattice",
]
_TOOL_B = [
    "Forge",
    "Lab",
    "Kit",
    "Hub",
    "Stack",
    "Lens",
    "Base",
    "Bench",
    "Scope",
    "Mind",
    "Grid",
    "Core",
    "DB",
    "Serve",
    "Pipe",
    "Board",
    "Tune",
    "Ops",
    "ML",
    "Sense",
    "Works",
    "Loop",
]
_TOOL_C = ["", " Studio", " Cloud", " Engine", " Toolkit"]
_ROLE_BASE = [
    "Research Scientist",
    "Machine Learning Engineer",
    "Data Scientist",
    "Research Engineer",
    "Applied Scientist",
    "Software Engineer",
    "Scientist",
]
_LADDER = ["Junior {}", "{}", "Senior {}", "Staff {}", "Principal {}"]
_CITIES = ["San Francisco", "New York", "Seattle", "London", "Zurich", "Toronto", "Paris", "Remote"]


def slugify(text: str) -> str:
    """Return the data-model slug of ``text``: lower-case ASCII words joined by ``-``.

    Examples
    --------
    >>> slugify("Master's degree")
    'master-s-degree'
    """
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "x"


@dataclass
class Vocabulary:
    """Terms per kind: ``{kind: [(label, [alt labels], real)]}``; ``real`` = from vocabulary.ttl.

    ``source`` says where the real terms came from.
    """

    entries: dict[str, list[tuple[str, list[str], bool]]] = field(default_factory=dict)
    source: str = "fallback list in bench/generate.py"

    def terms(self, kind: str) -> list[str]:
        """Return the preferred labels of ``kind``."""
        return [label for label, _, _ in self.entries.get(kind, [])]

    def all_labels(self) -> list[str]:
        """Return every preferred and alternative label, deduplicated, in a stable order."""
        seen: dict[str, None] = {}
        for kind in sorted(self.entries):
            for label, alts, _ in self.entries[kind]:
                seen.setdefault(label, None)
                for alt in alts:
                    seen.setdefault(alt, None)
        return list(seen)

    def size(self) -> int:
        """Return the number of concepts."""
        return sum(len(v) for v in self.entries.values())


def read_real_vocabulary(path: Path = VOCABULARY_FILE) -> dict[str, list[tuple[str, list[str]]]]:
    """Return ``{kind: [(prefLabel, altLabels)]}`` read from a SKOS vocabulary file.

    Returns an empty dict if the file is missing or cannot be parsed (the ontology engineer writes
    it concurrently). Read with pyoxigraph (fast); the class decides the kind.
    """
    if not path.is_file():
        return {}
    try:
        import pyoxigraph as ox

        store = ox.Store()
        store.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE)
        rows = store.query(
            f"""SELECT ?c ?cls ?pref ?alt WHERE {{
                ?c a ?cls ; <{SKOS}prefLabel> ?pref .
                OPTIONAL {{ ?c <{SKOS}altLabel> ?alt }}
                FILTER(STRSTARTS(STR(?cls), "{ONT}"))
            }}"""
        )
        found: dict[str, dict[str, tuple[str, list[str]]]] = {}
        for row in rows:  # type: ignore[union-attr]
            cls = row["cls"].value[len(ONT) :]
            kind = CLASS_KIND.get(cls)
            if kind is None:
                continue
            concept = row["c"].value
            entry = found.setdefault(kind, {}).setdefault(concept, (row["pref"].value, []))
            alt = row["alt"]
            if alt is not None and alt.value not in entry[1]:
                entry[1].append(alt.value)
    except Exception:  # any parse problem: fall back, the bench must not crash
        return {}
    return {
        kind: [(pref, sorted(alts)) for _, (pref, alts) in sorted(concepts.items())]
        for kind, concepts in found.items()
    }


def make_vocabulary(
    seed: int = 42, generated: bool = True, path: Path = VOCABULARY_FILE
) -> Vocabulary:
    """Return the benchmark vocabulary: real terms plus (if ``generated``) thousands of made-up.

    Real terms come from ``path`` when it exists, else from :data:`FALLBACK_TERMS`. Generated terms
    are combinations of word lists (``"federated graph retrieval"``, ``"TensorForge Studio"``),
    chosen deterministically from ``seed``.
    """
    real = read_real_vocabulary(path)
    vocab = Vocabulary(source=str(path.relative_to(ROOT)) if real else Vocabulary.source)
    base = real or {k: [(t, []) for t in v] for k, v in FALLBACK_TERMS.items()}
    seen: set[str] = set()
    for kind in KIND_CLASS:
        vocab.entries[kind] = []
        for label, alts in base.get(kind, []):
            if label.lower() not in seen:
                seen.add(label.lower())
                vocab.entries[kind].append((label, alts, True))
    if not generated:
        return vocab
    rng = random.Random(seed)

    def add(kind: str, labels: Iterable[str], limit: int) -> None:
        pool = [label for label in labels if label.lower() not in seen]
        rng.shuffle(pool)
        for label in pool[:limit]:
            seen.add(label.lower())
            vocab.entries[kind].append((label, [], False))

    add("skill", (f"{a} {d} {n}" for a in _ADJ for d in _DOMAIN for n in _NOUN), 3000)
    add("tool", (f"{a}{b}{c}" for a in _TOOL_A for b in _TOOL_B for c in _TOOL_C), 2000)
    add("area", (f"{a} {n}" for a in _ADJ for n in _NOUN), 300)
    add("venue", (f"Workshop on {a} {n}" for a in _ADJ for n in _NOUN), 200)
    add("organization", (f"{a}{b} Labs" for a in _TOOL_A for b in _TOOL_B), 300)
    add("field", (f"{d[0].upper()}{d[1:]} Science" for d in _DOMAIN), 20)
    return vocab


def vocabulary_digest(path: Path = VOCABULARY_FILE) -> str:
    """Return a short digest of the real vocabulary file ("none" if absent), for cache keys."""
    if not path.is_file():
        return "none"
    return hashlib.sha256(path.read_bytes()).hexdigest()[:8]


def write_vocabulary(vocab: Vocabulary, path: Path, real_file: Path = VOCABULARY_FILE) -> Path:
    """Write ``vocab`` as a SKOS Turtle file shaped like ``ontology/vocabulary.ttl``; return path.

    When ``real_file`` exists its text is copied verbatim (keeping annotations such as
    ``mlkg:needsContext``) and only the generated terms are appended; otherwise every term is
    written.
    """
    lines = []
    used: set[str] = set()
    copy_real = real_file.is_file() and vocab.source != Vocabulary.source
    if copy_real:
        text = real_file.read_text(encoding="utf-8")
        lines.append(text)
        used.update(re.findall(r"<(https://w3id\.org/mlkg/id/[^>]+)>", text))
    lines += [
        f"@prefix mlkg: <{ONT}> .",
        f"@prefix skos: <{SKOS}> .",
        f"<{SCHEME}> a skos:ConceptScheme .",
    ]
    for kind, entries in vocab.entries.items():
        for label, alts, real in entries:
            if real and copy_real:
                continue
            iri = _unique_iri(IRI_KIND.get(kind, kind), label, used)
            alt_text = "".join(f" ; skos:altLabel {_lit(a)}" for a in alts)
            lines.append(
                f"<{iri}> a mlkg:{KIND_CLASS[kind]} ; skos:prefLabel {_lit(label)}{alt_text} ;"
                f" skos:inScheme <{SCHEME}> ."
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _unique_iri(kind: str, label: str, used: set[str]) -> str:
    base = f"{ID}{kind}/{slugify(label)}"
    iri, n = base, 2
    while iri in used:
        iri, n = f"{base}-{n}", n + 1
    used.add(iri)
    return iri


def _lit(text: str, lang: str | None = "en") -> str:
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    return f'"{escaped}"@{lang}' if lang else f'"{escaped}"'


# --------------------------------------------------------------------------------------------
# corpus
# --------------------------------------------------------------------------------------------


def _pick(rng: random.Random, items: list[str], k: int) -> list[str]:
    return rng.sample(items, min(k, len(items)))


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _money(value: int) -> str:
    return f"${value:,}"


class _CorpusWriter:
    """Produce document texts from a vocabulary (one instance per corpus, seeded)."""

    def __init__(self, vocab: Vocabulary, seed: int) -> None:
        self.rng = random.Random(seed)
        self.v = {kind: vocab.terms(kind) for kind in KIND_CLASS}
        self.roles = self.v["role"] or FALLBACK_TERMS["role"]
        self.v["area"] = self.v["area"] or FALLBACK_TERMS["area"]

    def _family(self) -> tuple[str, list[str]]:
        rng = self.rng
        base = rng.choice(self.roles + _ROLE_BASE)
        area = rng.choice(self.v["area"])
        title = base if rng.random() < 0.3 else f"{area.title()} {base}"
        return title, [step.format(title) for step in _LADDER]

    def _prose(self, n: int) -> str:
        rng, v = self.rng, self.v
        templates = [
            "Practitioners combine {s1} with {s2} to ship reliable systems.",
            "Teams increasingly rely on {t1} and {t2} for day-to-day experimentation.",
            "Work in {a1} often overlaps with {a2}, and results appear at {ve}.",
            "Strong {soft} matters as much as depth in {s1}.",
            "Many positions are found in {ind} and at companies such as {org}.",
        ]
        out = []
        for _ in range(n):
            out.append(
                rng.choice(templates).format(
                    s1=rng.choice(v["skill"]),
                    s2=rng.choice(v["skill"]),
                    t1=rng.choice(v["tool"]),
                    t2=rng.choice(v["tool"]),
                    a1=rng.choice(v["area"]),
                    a2=rng.choice(v["area"]),
                    ve=rng.choice(v["venue"]),
                    soft=rng.choice(v["softskill"] or ["communication"]),
                    ind=rng.choice(v["industry"] or ["finance"]),
                    org=rng.choice(v["organization"] or ["Google"]),
                )
            )
        return " ".join(out)

    def guide(self) -> tuple[str, str]:
        """Return (title, text) of a flat career guide like data/documents/*.txt."""
        rng, v = self.rng, self.v
        title, ladder = self._family()
        sections = rng.randint(2, 4)  # repeat blocks to vary size (~4-20 KB)
        out = ["Overview", f"A {title} works on {rng.choice(v['area'])}. " + self._prose(4)]
        for _ in range(sections):
            out.append("Core Responsibilities")
            out.append(self._prose(2))
            for _ in range(rng.randint(3, 6)):
                out.append(f"- Develop methods for {rng.choice(v['skill'])}")
            out.append("Required Skills")
            for _ in range(rng.randint(4, 8)):
                out.append(f"- Strong understanding of {_join(_pick(rng, v['skill'], 2))}")
            langs = _join(_pick(rng, v["language"] or ["Python"], 3))
            out.append(f"- Expertise in programming languages ({langs})")
            out.append(f"- Excellent {rng.choice(v['softskill'] or ['communication'])} skills")
            out.append("Educational Background")
            fields = ", ".join(_pick(rng, v["field"] or ["Computer Science"], 3))
            out.append(f"- Typically requires a Ph.D. in {fields}, or related field")
            out.append(
                f"- A Master's degree in {rng.choice(v['field'] or ['Statistics'])} is preferred"
            )
            out.append("Tools and Technologies")
            out.append(f"- Programming languages: {', '.join(_pick(rng, v['language'], 3))}")
            out.append(f"- ML libraries and frameworks: {', '.join(_pick(rng, v['tool'], 4))}")
            out.append(f"- Data analysis tools: {', '.join(_pick(rng, v['tool'], 2))}")
            out.append("Publication Venues")
            out.append(f"- Publish findings at {_join(_pick(rng, v['venue'], 3))}")
            out.append(self._prose(3))
        out.append("Career Progression")
        stages = [("Entry-Level Roles", 0, 2), ("Mid-Level Roles", 1, 5)]
        stages += [("Senior Roles", 2, 10), ("Leadership Roles", 4, 15)]
        for (stage, idx, years), verb in zip(
            stages, ["Start as", "Advance to", "Progress to", "Aspire to become"], strict=True
        ):
            out.append(f"- {stage}:")
            extra = f" or {ladder[idx + 1]}" if idx + 1 < len(ladder) and idx == 2 else ""
            out.append(
                f"- {verb} a {ladder[idx]}{extra} ({years}+ years), focusing on "
                f"{rng.choice(v['skill'])}."
            )
        out.append("Salary Ranges (US Market, 2024)")
        out.append(f"{title} salaries vary with experience and company:")
        low = rng.randrange(60, 160) * 1000
        out.append(f"- Median salary: {_money(low + rng.randrange(20, 80) * 1000)}")
        out.append(
            f"- Typical range: {_money(low)} to {_money(low + rng.randrange(50, 200) * 1000)}"
        )
        for org in _pick(rng, v["organization"] or ["Google"], rng.randint(2, 5)):
            lo = rng.randrange(50, 200) * 1000
            out.append(f"- {org}: {_money(lo)} to {_money(lo + rng.randrange(40, 250) * 1000)}")
        out.append("Industry Trends")
        out.append(self._prose(3))
        return title, "\n".join(out) + "\n"

    def posting(self) -> tuple[str, str]:
        """Return (title, text) of a Markdown job posting."""
        rng, v = self.rng, self.v
        _, ladder = self._family()
        title = rng.choice(ladder[1:])
        org = rng.choice(v["organization"] or ["Google"])
        years = rng.randint(1, 8)
        out = [f"# {title}", "", f"**{org}** · {rng.choice(_CITIES)} · Full-time", ""]
        out += ["## About the role", "", self._prose(3), "", "## Minimum qualifications", ""]
        fields = _join(_pick(rng, v["field"] or ["Computer Science"], 2))
        out.append(f"- Bachelor's degree in {fields}, or equivalent practical experience.")
        langs = _join(_pick(rng, v["language"] or ["Python"], 2))
        out.append(f"- {years} years of experience with {langs}.")
        out.append(f"- Experience with {_join(_pick(rng, v['tool'], 3))}.")
        out += ["", "## Preferred qualifications", ""]
        out.append(f"- PhD in {rng.choice(v['field'] or ['Computer Science'])}.")
        out.append(f"- Publications at {_join(_pick(rng, v['venue'], 2))}.")
        out.append(f"- Knowledge of {_join(_pick(rng, v['skill'], 3))}.")
        out += ["", "## Responsibilities", ""]
        for _ in range(rng.randint(3, 6)):
            out.append(f"- Apply {rng.choice(v['skill'])} to problems in {rng.choice(v['area'])}.")
        low = rng.randrange(90, 250) * 1000
        out += ["", "## Compensation", ""]
        out.append(
            f"The US base salary range for this position is {_money(low)}–"
            f"{_money(low + rng.randrange(30, 150) * 1000)} + bonus + equity + benefits."
        )
        return title, "\n".join(out) + "\n"


def write_corpus(
    out_dir: Path, n_documents: int, seed: int = 42, vocab: Vocabulary | None = None
) -> list[Path]:
    """Write ``n_documents`` documents to ``out_dir`` (2 in 3 guides, 1 in 3 postings).

    File names follow ``data/documents`` (``000_<16 hex>.txt``; postings end in ``.md``). Returns
    the paths, sorted. The same ``seed`` gives the same bytes.
    """
    vocab = vocab or make_vocabulary(seed)
    writer = _CorpusWriter(vocab, seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    width = max(3, len(str(n_documents - 1)))
    for i in range(n_documents):
        posting = i % 3 == 2
        _, text = writer.posting() if posting else writer.guide()
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        path = out_dir / f"{i:0{width}d}_{digest}.{'md' if posting else 'txt'}"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def cached_corpus(n_documents: int, seed: int = 42) -> Path:
    """Return a folder under ``bench/.cache`` holding the corpus of that size (written once)."""
    import shutil

    out = CACHE_DIR / f"corpus-{n_documents}-s{seed}-v{vocabulary_digest()}"
    marker = out.with_name(out.name + ".complete")  # outside the folder: the build reads it all
    if not marker.is_file() or not out.is_dir():
        tmp = out.with_name(out.name + ".tmp")
        for stale in (out, tmp):
            if stale.exists():
                shutil.rmtree(stale)
        write_corpus(tmp, n_documents, seed)
        tmp.rename(out)
        marker.write_text("ok\n")
    return out


# --------------------------------------------------------------------------------------------
# graph
# --------------------------------------------------------------------------------------------


@dataclass
class GraphInfo:
    """What :func:`write_graph` wrote: counts and a few IRIs the benchmarks use as parameters."""

    path: str
    triples: int
    roles: int
    documents: int
    facts: int
    role_iris: list[str]
    role_labels: list[str]
    ladder: list[str]  # one progressesTo chain, bottom to top (IRIs)
    ladder_labels: list[str]
    skill_iris: list[str]

    def to_json(self) -> str:
        """Return the info as JSON (stored next to the cached file)."""
        return json.dumps(self.__dict__, indent=1)


def _iri(kind: str, slug: str) -> str:
    return f"<{ID}{kind}/{slug}>"


def _int(n: int) -> str:
    return f'"{n}"^^<{XSD_INTEGER}>'


_TYPE = f"<{RDF}type>"
_PREF = f"<{SKOS}prefLabel>"
_ALT = f"<{SKOS}altLabel>"
_MENTIONED = f"<{ONT}mentionedIn>"
_DOCUMENT_COUNT = f"<{ONT}documentCount>"
_ROLE_COUNT = f"<{ONT}roleCount>"
_NOT_COUNTED = {f"<{ONT}progressesTo>", f"<{ONT}hasSalary>"}  # not in mlkg:roleCount


class _GraphWriter:
    def __init__(self, vocab: Vocabulary, seed: int, profile: str) -> None:
        self.rng = random.Random(seed)
        self.profile = profile
        self.lines: list[str] = []
        self.count = 0
        self.used: set[str] = set()
        self.pools: dict[str, list[tuple[str, str, list[str], bool]]] = {}
        for kind, entries in vocab.entries.items():
            iri_kind = IRI_KIND.get(kind, kind)
            self.pools[kind] = [
                (_unique_iri(iri_kind, label, self.used), label, alts, real)
                for label, alts, real in entries
            ]
        if not self.pools.get("stage"):
            self.pools["stage"] = [
                (_unique_iri("stage", s, self.used), s, [], False) for s in FALLBACK_TERMS["stage"]
            ]
        # entity IRI -> set of document IRIs (emitted at the end)
        self.entity_docs: dict[str, set[str]] = {}
        self.entity_meta: dict[str, tuple[str, str, list[str], bool]] = {}
        self.entity_pending = 0
        self.facts = 0
        # entity IRI -> roles with a direct relation to it (mlkg:roleCount)
        self.entity_roles: dict[str, set[str]] = {}

    def emit(self, s: str, p: str, o: str) -> None:
        self.lines.append(f"{s} {p} {o} .\n")
        self.count += 1

    def mention(self, kind: str, entry: tuple[str, str, list[str], bool], doc: str) -> str:
        iri = f"<{entry[0]}>"
        docs = self.entity_docs.get(iri)
        if docs is None:
            docs = self.entity_docs[iri] = set()
            self.entity_meta[iri] = (kind, entry[1], entry[2], entry[3])
            # type, label, documentCount, roleCount, altLabels, inScheme
            self.entity_pending += 4 + len(entry[2]) + (1 if entry[3] else 0)
        if doc not in docs:
            docs.add(doc)
            self.entity_pending += 1
        return iri

    def relation(self, s: str, p: str, o: str, evidence: str, **extra: int | str) -> None:
        self.emit(s, p, o)
        if p not in _NOT_COUNTED:
            self.entity_roles.setdefault(o, set()).add(s)
        if self.profile != "full":
            return
        fact_hash = hashlib.sha1(f"{s[1:-1]}|{p[1:-1]}|{o[1:-1]}".encode()).hexdigest()[:16]
        fact = _iri("fact", fact_hash)
        self.emit(fact, _TYPE, f"<{RDF}Statement>")
        self.emit(fact, _TYPE, f"<{PROV}Entity>")
        self.emit(fact, f"<{RDF}subject>", s)
        self.emit(fact, f"<{RDF}predicate>", p)
        self.emit(fact, f"<{RDF}object>", o)
        for key, value in extra.items():
            obj = _int(value) if isinstance(value, int) else _lit(value, None)
            self.emit(fact, f"<{ONT}{key}>", obj)
        self.emit(fact, f"<{PROV}wasDerivedFrom>", evidence)
        self.facts += 1

    def evidence(self, doc_id: str, doc: str, offset: int, text: str, section: str) -> str:
        end = offset + len(text)
        ev = _iri("evidence", f"{doc_id}-{offset}-{end}")
        if self.profile != "full":
            return ev
        self.emit(ev, _TYPE, f"<{ONT}Evidence>")
        self.emit(ev, _TYPE, f"<{PROV}Entity>")
        self.emit(ev, f"<{PROV}value>", _lit(text, None))
        self.emit(ev, f"<{ONT}section>", _lit(section, None))
        self.emit(ev, f"<{ONT}startOffset>", _int(offset))
        self.emit(ev, f"<{ONT}endOffset>", _int(end))
        self.emit(ev, f"<{PROV}wasQuotedFrom>", doc)
        return ev

    def finish_entities(self) -> None:
        for iri in sorted(self.entity_docs):
            kind, label, alts, real = self.entity_meta[iri]
            self.emit(iri, _TYPE, f"<{ONT}{KIND_CLASS[kind]}>")
            self.emit(iri, _PREF, _lit(label))
            for alt in alts:
                self.emit(iri, _ALT, _lit(alt))
            if real:
                self.emit(iri, f"<{SKOS}inScheme>", f"<{SCHEME}>")
            for doc in sorted(self.entity_docs[iri]):
                self.emit(iri, _MENTIONED, doc)
            self.emit(iri, _DOCUMENT_COUNT, _int(len(self.entity_docs[iri])))
            self.emit(iri, _ROLE_COUNT, _int(len(self.entity_roles.get(iri, ()))))


#: Bumped when the synthetic graph's shape changes, so cached graphs are made again
#: (2: entities carry mlkg:documentCount and mlkg:roleCount, as builds write them, and a
#: document's identifier is the start of its sha256: the graph conforms to the shapes).
GRAPH_FORMAT = 2


def write_graph(
    path: Path,
    triples: int | None = None,
    roles: int | None = None,
    seed: int = 42,
    profile: str = "full",
    vocab: Vocabulary | None = None,
) -> GraphInfo:
    """Write a synthetic graph as N-Triples to ``path``; return a :class:`GraphInfo`.

    Give ``triples`` (stop after the ladder that reaches that many: within ~2,500) or ``roles``
    (that many roles). ``profile``
    ``"full"`` writes every relation with its reified fact and evidence, documents, salaries and
    entities with labels and ``mentionedIn`` (about 450 triples per role); ``"roles"`` writes only
    the role layer (types, labels, ``atStage``, ``progressesTo``, a few skills, salaries) for
    path-finding benchmarks on many roles.

    Roles come in ladders of five (``Junior X`` ... ``Principal X``) linked by ``progressesTo``;
    about a third of roles also progress to the next level of another ladder, so long routes exist.
    """
    if (triples is None) == (roles is None):
        raise ValueError("give exactly one of triples= or roles=")
    vocab = vocab or make_vocabulary(seed)
    w = _GraphWriter(vocab, seed, profile)
    rng = w.rng
    pools = w.pools
    # ontology triples the build also writes (subclass closure for rdf:type/rdfs:subClassOf*)
    for sub, sup in [
        ("TechnicalSkill", "Skill"),
        ("SoftSkill", "Skill"),
        ("ProgrammingLanguage", "Tool"),
    ]:
        w.emit(f"<{ONT}{sub}>", f"<{RDFS}subClassOf>", f"<{ONT}{sup}>")
    w.emit(f"<{ONT}Role>", f"<{RDFS}subClassOf>", f"<{SCHEMA}Occupation>")

    area_pool = [e[1] for e in pools["area"]] or FALLBACK_TERMS["area"]
    bases = [e[1] for e in pools["role"]] + _ROLE_BASE
    stages = pools["stage"]
    role_iris: list[str] = []
    role_labels: list[str] = []
    used_roles: set[str] = set()
    ladders: list[list[str]] = []
    first_ladder_labels: list[str] = []
    skill_iris: list[str] = []
    n_docs = 0
    families = 0

    def done() -> bool:
        if roles is not None:
            return len(role_iris) >= roles
        assert triples is not None
        return w.count + w.entity_pending >= triples

    while not done():
        families += 1
        base = bases[families % len(bases)]
        area = rng.choice(area_pool)
        family = base if families <= len(bases) else f"{area.title()} {base}"
        titles = [step.format(family) for step in _LADDER]
        # one document per family (a guide about its ladder)
        n_docs += 1
        doc_sha256 = hashlib.sha256(f"{seed}-{families}".encode()).hexdigest()
        doc_id = doc_sha256[:16]  # as a build names documents: the digest's first 16 digits
        doc = _iri("document", doc_id)
        if profile == "full":
            w.emit(doc, _TYPE, f"<{ONT}Document>")
            w.emit(doc, _TYPE, f"<{PROV}Entity>")
            w.emit(doc, f"<{DCT}identifier>", _lit(doc_id, None))
            w.emit(doc, f"<{DCT}title>", _lit(f"{family} career guide", None))
            w.emit(doc, f"<{ONT}fileName>", _lit(f"{n_docs:06d}_{doc_id}.txt", None))
            w.emit(doc, f"<{ONT}sha256>", _lit(doc_sha256, None))
        ladder: list[str] = []
        offset = 0
        for level, title in enumerate(titles):
            slug = slugify(title)
            if slug in used_roles:
                slug = f"{slug}-{families}"
            used_roles.add(slug)
            role = _iri("role", slug)
            ladder.append(role)
            role_iris.append(role[1:-1])
            role_labels.append(title)
            w.emit(role, _TYPE, f"<{ONT}Role>")
            w.emit(role, _PREF, _lit(title))
            if profile == "full":
                w.emit(role, _MENTIONED, doc)
                w.emit(role, _DOCUMENT_COUNT, _int(1))
                if level == 1:
                    w.emit(doc, f"<{ONT}primaryRole>", role)
            n_skills, n_tools = (rng.randint(8, 18), rng.randint(5, 12))
            if profile != "full":
                n_skills, n_tools = 3, 0
            # bullets: each evidence sentence supports several facts
            groups = [
                (
                    "requiresSkill",
                    "skill",
                    n_skills,
                    "Required Skills",
                    "- Strong understanding of ",
                ),
                ("requiresSkill", "softskill", 2, "Required Skills", "- Excellent "),
                ("usesTool", "tool", n_tools, "Tools and Technologies", "- Frameworks: "),
                (
                    "usesTool",
                    "language",
                    2 if profile == "full" else 0,
                    "Tools and Technologies",
                    "- Programming languages: ",
                ),
                (
                    "publishesAt",
                    "venue",
                    2 if profile == "full" else 0,
                    "Publication Venues",
                    "- Publish at ",
                ),
                (
                    "requiresDegree",
                    "degree",
                    1 if profile == "full" else 0,
                    "Educational Background",
                    "- Typically requires a ",
                ),
                (
                    "inField",
                    "field",
                    2 if profile == "full" else 0,
                    "Educational Background",
                    "- Degree in ",
                ),
                ("focusesOn", "area", 2 if profile == "full" else 0, "Focus Areas", "- Focus on "),
                (
                    "worksIn",
                    "industry",
                    1 if profile == "full" else 0,
                    "Industry Trends",
                    "- Common in ",
                ),
                (
                    "worksIn",
                    "organization",
                    1 if profile == "full" else 0,
                    "Industry Trends",
                    "- Hiring at ",
                ),
            ]
            for prop, kind, k, section, lead in groups:
                pool = pools.get(kind) or []
                if not pool or k == 0:
                    continue
                # skew: a few popular terms, a long tail (like real postings)
                chosen: dict[str, tuple[str, str, list[str], bool]] = {}
                for _ in range(k):
                    idx = min(int(rng.paretovariate(1.2)) - 1, len(pool) - 1)
                    entry = pool[idx] if rng.random() < 0.5 else rng.choice(pool)
                    chosen[entry[0]] = entry
                entries = list(chosen.values())
                for start in range(0, len(entries), 3):
                    chunk = entries[start : start + 3]
                    text = lead + ", ".join(e[1] for e in chunk)
                    ev = w.evidence(doc_id, doc, offset, text, section)
                    offset += len(text) + 1
                    for entry in chunk:
                        obj = w.mention(kind, entry, doc)
                        if kind == "skill" and len(skill_iris) < 50:
                            skill_iris.append(obj[1:-1])
                        extra: dict[str, int | str] = {}
                        if prop == "requiresDegree":
                            extra["qualifier"] = rng.choice(["minimum", "preferred", "typical"])
                        w.relation(role, f"<{ONT}{prop}>", obj, ev, **extra)
            stage_entry = stages[min(level, len(stages) - 1)]
            stage = w.mention("stage", stage_entry, doc)
            text = f"- {stage_entry[1]}: {title}"
            ev = w.evidence(doc_id, doc, offset, text, "Career Progression")
            offset += len(text) + 1
            w.relation(
                role, f"<{ONT}atStage>", stage, ev, minYears=level * 2, maxYears=level * 3 + 2
            )
            # salary
            sal_hash = hashlib.sha1(f"{role}|salary".encode()).hexdigest()[:16]
            salary = _iri("salary", sal_hash)
            low = 60000 + level * 25000 + rng.randrange(0, 40) * 1000
            high = low + rng.randrange(40, 200) * 1000
            w.emit(salary, _TYPE, f"<{SCHEMA}MonetaryAmountDistribution>")
            w.emit(salary, f"<{SCHEMA}currency>", _lit("USD", None))
            w.emit(salary, f"<{SCHEMA}minValue>", _int(low))
            w.emit(salary, f"<{SCHEMA}maxValue>", _int(high))
            w.emit(salary, f"<{SCHEMA}median>", _int((low + high) // 2))
            w.emit(salary, f"<{ONT}year>", _int(2024))
            if profile == "full":
                w.emit(salary, _MENTIONED, doc)
            text = f"- {title}: {_money(low)} to {_money(high)}"
            ev = w.evidence(doc_id, doc, offset, text, "Salary Ranges (US Market, 2024)")
            offset += len(text) + 1
            w.relation(role, f"<{ONT}hasSalary>", salary, ev)
            if roles is not None and len(role_iris) >= roles:
                break
        # ladder and cross-ladder moves
        for level in range(len(ladder) - 1):
            text = f"- Progress from {titles[level]} to {titles[level + 1]}"
            ev = w.evidence(doc_id, doc, offset, text, "Career Progression")
            offset += len(text) + 1
            w.relation(
                ladder[level], f"<{ONT}progressesTo>", ladder[level + 1], ev, minYears=2, maxYears=5
            )
        if ladders:
            for level in range(len(ladder)):
                if rng.random() < 0.33:
                    other = rng.choice(ladders)
                    if level + 1 < len(other):
                        text = f"- Move from {titles[level]} to another track"
                        ev = w.evidence(doc_id, doc, offset, text, "Career Progression")
                        offset += len(text) + 1
                        w.relation(ladder[level], f"<{ONT}progressesTo>", other[level + 1], ev)
        if not first_ladder_labels:
            first_ladder_labels = titles[: len(ladder)]
        ladders.append(ladder)
        w.facts += 0
    w.finish_entities()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        fh.writelines(w.lines)
    return GraphInfo(
        path=str(path),
        triples=w.count,
        roles=len(role_iris),
        documents=n_docs,
        facts=w.facts,
        role_iris=role_iris[:200],
        role_labels=role_labels[:200],
        ladder=[iri[1:-1] for iri in ladders[0]],
        ladder_labels=first_ladder_labels,
        skill_iris=skill_iris,
    )


def cached_graph(
    triples: int | None = None, roles: int | None = None, seed: int = 42, profile: str = "full"
) -> GraphInfo:
    """Return the :class:`GraphInfo` of a cached graph under ``bench/.cache`` (written once)."""
    size = f"t{triples}" if triples else f"r{roles}"
    name = f"graph-{profile}-{size}-s{seed}-v{vocabulary_digest()}-g{GRAPH_FORMAT}"
    path = CACHE_DIR / f"{name}.nt"
    meta = CACHE_DIR / f"{name}.json"
    if path.is_file() and meta.is_file():
        return GraphInfo(**json.loads(meta.read_text()))
    tmp = path.with_suffix(".nt.tmp")
    info = write_graph(tmp, triples=triples, roles=roles, seed=seed, profile=profile)
    tmp.rename(path)
    info.path = str(path)
    meta.write_text(info.to_json())
    return info


def iter_lines(path: Path) -> Iterator[str]:
    """Yield the lines of a generated file (for tests)."""
    with path.open(encoding="utf-8") as fh:
        yield from fh


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m bench.generate corpus N OUT`` or ``graph TRIPLES OUT``."""
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__)
    sub = parser.add_subparsers(dest="what", required=True)
    corpus = sub.add_parser("corpus", help="write N synthetic documents")
    corpus.add_argument("n", type=int)
    corpus.add_argument("out", type=Path)
    graph = sub.add_parser("graph", help="write a synthetic N-Triples graph of ~TRIPLES triples")
    graph.add_argument("triples", type=int)
    graph.add_argument("out", type=Path)
    vocab = sub.add_parser("vocabulary", help="write the benchmark SKOS vocabulary")
    vocab.add_argument("out", type=Path)
    for p in (corpus, graph, vocab):
        p.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    if args.what == "corpus":
        paths = write_corpus(args.out, args.n, args.seed)
        print(f"wrote {len(paths)} documents to {args.out}")
    elif args.what == "graph":
        info = write_graph(args.out, triples=args.triples, seed=args.seed)
        print(f"wrote {info.triples} triples ({info.roles} roles) to {args.out}")
    else:
        v = make_vocabulary(args.seed)
        write_vocabulary(v, args.out)
        print(f"wrote {v.size()} concepts to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
