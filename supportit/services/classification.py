"""Every new ticket gets a queue and a suggested priority, with a confidence and the reasons.

The category comes from a small scikit-learn model: TF-IDF over stemmed words in both languages
and over character n-grams (robust to typos and to "URLNotify"/"urlnotfy"), then a logistic
regression, whose weights also say which words decided. It learns from the labelled corpus in
`tests/corpus/` and from tickets agents confirmed or corrected (`supportit classify train`).

The priority is a rule, not a model: the team must be able to say why a ticket woke someone up.
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import scipy.sparse
import scipy.special
import sklearn
from flask import current_app
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, recall_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import FeatureUnion, Pipeline
from sqlalchemy import func, select

from supportit.db import db, utcnow
from supportit.i18n import lazy_gettext as _l
from supportit.models import Category, Priority, Status, Ticket, User
from supportit.models.classification import ClassifierModel, TicketClassification
from supportit.services import audit
from supportit.services.errors import ServiceError
from supportit.services.kb_search import STOP_WORDS, fold, terms

log = logging.getLogger(__name__)

CATEGORIES = [c.value for c in Category]
# Below this, a disagreement with the merchant's choice is not worth an agent's attention.
DISAGREEMENT_CONFIDENCE = 0.6
BUILTIN_VERSION = 0  # the model built in memory from the shipped corpus
_WORD = re.compile(r"[^\W_]+")


# --- features --------------------------------------------------------------------------------


def analyse(text: str) -> list[str]:
    """Word features: each word's French and English stems (the ticket's language is unknown)."""
    features: list[str] = []
    for word in _WORD.findall(text.casefold()):
        if fold(word) in STOP_WORDS:
            continue
        for language in ("fr", "en"):
            for term in terms(word, language):
                if term not in features[-2:]:
                    features.append(term)
    return features


def ticket_text(subject: str, body: str) -> str:
    # The subject says most in fewest words: it counts twice.
    return f"{subject}\n{subject}\n{(body or '')[:3000]}"


def build_pipeline() -> Pipeline:
    return Pipeline(
        [
            (
                "features",
                FeatureUnion(
                    [
                        ("words", TfidfVectorizer(analyzer=analyse, sublinear_tf=True)),
                        (
                            "chars",
                            TfidfVectorizer(
                                analyzer="char_wb",
                                ngram_range=(3, 5),
                                preprocessor=fold,
                                sublinear_tf=True,
                                min_df=2,
                            ),
                        ),
                    ]
                ),
            ),
            ("model", LogisticRegression(C=20, max_iter=5000, class_weight="balanced")),
        ]
    )


def fit(examples: list[dict[str, str]]) -> Pipeline:
    pipeline = build_pipeline()
    pipeline.fit(
        [ticket_text(e["subject"], e["body"]) for e in examples], [e["category"] for e in examples]
    )
    return pipeline


# --- priority rules ----------------------------------------------------------------------------

# Folded phrases (no accents, lower case). Each rule keeps the phrase that matched, for the agent.
TOTAL_FAILURE = (
    "tous les paiements", "aucun paiement", "plus aucun", "plus de paiement", "aucun client",
    "panne", "indisponib", "page blanche", "ventes sont arretees", "site en panne", "bloquant",
    "all payments", "every payment", "all floa payments", "no customer", "nobody can", "outage",
    "is down", "checkout is down", "unavailable", "blank page", "sales are stopped", "503", "502",
    "urgent",
)  # fmt: skip
PRODUCTION = ("production", "prod ", "en ligne", "live", "boutique", "our shop", "our store")
QUESTION = (
    "comment ", "quel", "quelle", "ou trouver", "est-il possible", "combien", "sous quel",
    "how ", "which", "where ", "is it possible", "what is", "can we", "how long", "are there",
)  # fmt: skip
FAILURE = (
    "erreur", "echou", "refus", "bloqu", "timeout", "impossible", "ne fonctionne", "non recu",
    "error", "fail", "refused", "rejected", "declined", "not received", "does not", "cannot",
    "stuck",
)  # fmt: skip


def _first(phrases: tuple[str, ...], text: str) -> str | None:
    return next((p.strip() for p in phrases if p in text), None)


def suggest_priority(category: str, subject: str, body: str) -> tuple[str, list[str]]:
    """(priority, rules) where each rule is `code:phrase`, phrase being the words that matched."""
    text = fold(f" {subject} {body} ")
    if category == Category.RUN.value:
        total = _first(TOTAL_FAILURE, text)
        if total:
            return Priority.P1.value, [f"total_failure:{total}"]
        return Priority.P2.value, ["production_incident:"]
    failure = _first(FAILURE, text)
    question = _first(QUESTION, text)
    if question and not failure:
        return Priority.P4.value, [f"question:{question}"]
    if failure:
        return Priority.P3.value, [f"failure:{failure}"]
    return Priority.P3.value, ["default:"]


RULE_LABELS = {
    "total_failure": _l("payments fail for everyone"),
    "production_incident": _l("a production incident"),
    "question": _l("a question, no failure described"),
    "failure": _l("a failure with a workaround likely"),
    "default": _l("the queue's usual priority"),
}


# --- the model in use --------------------------------------------------------------------------


@dataclass
class Loaded:
    version: int
    pipeline: Pipeline


_lock = threading.Lock()
_builtin: dict[tuple[Any, ...], Pipeline] = {}
_stored: dict[int, Pipeline] = {}


def corpus_dir() -> Path | None:
    configured = current_app.config.get("CLASSIFY_CORPUS")
    if not configured:
        return None
    path = Path(configured)
    return path if path.is_dir() else None


def read_corpus(directory: Path) -> list[dict[str, str]]:
    """The labelled tickets of `directory/*.jsonl`: subject, body, category, priority, lang."""
    examples = []
    for path in sorted(directory.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            item = json.loads(line)
            if item.get("category") not in CATEGORIES:
                raise ValueError(f"{path.name}:{number}: unknown category {item.get('category')}")
            examples.append(item)
    return examples


# Built once: every ticket opened runs it, and building it costs more than running it.
_ACTIVE_MODEL = select(ClassifierModel.id, ClassifierModel.version).where(ClassifierModel.active)


def current() -> Loaded | None:
    """The active stored model, else the one built from the corpus, else None (no classifier)."""
    # Reference data: no need to flush the caller's pending ticket first (opening a ticket is
    # then written in one flush, not two).
    with db.session.no_autoflush:
        active = db.session.execute(_ACTIVE_MODEL).first()
    if active is not None:
        with _lock:
            if active.version not in _stored:
                blob = db.session.get(ClassifierModel, active.id).blob
                _stored[active.version] = joblib.load(io.BytesIO(blob))
            return Loaded(active.version, _stored[active.version])
    directory = corpus_dir()
    if directory is None:
        return None
    key = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in directory.glob("*.jsonl"))
    with _lock:
        if key not in _builtin:
            _builtin.clear()
            _builtin[key] = fit(read_corpus(directory))
        return Loaded(BUILTIN_VERSION, _builtin[key])


# --- predicting --------------------------------------------------------------------------------


@dataclass
class Prediction:
    category: str
    confidence: float
    priority: str
    words: list[str] = field(default_factory=list)
    priority_rules: list[str] = field(default_factory=list)
    model_version: int = BUILTIN_VERSION

    def as_json(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "confidence": round(self.confidence, 3),
            "priority": self.priority,
        }


def predict(subject: str, body: str, loaded: Loaded | None = None) -> Prediction | None:
    loaded = loaded or current()
    if loaded is None:
        return None
    return predict_many([(subject, body)], loaded)[0]


def predict_many(items: list[tuple[str, str]], loaded: Loaded) -> list[Prediction]:
    texts = [ticket_text(s, b) for s, b in items]
    model = loaded.pipeline.named_steps["model"]
    scorer = _one_text_scorer(loaded.pipeline) if len(items) == 1 else None
    rows: list[tuple[np.ndarray, np.ndarray]]  # each text's features: columns, values
    if scorer is not None:
        rows = [scorer.features(texts[0])]
        probabilities = [scorer.probabilities(*rows[0])]
    else:
        # The model is ours and its input plain text: scikit-learn's checks cost more than
        # the prediction itself.
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            # The features once, for the model and for the deciding words (the pipeline's
            # own predict_proba would compute them, then the words would be computed again).
            features = _features(loaded.pipeline.named_steps["features"], texts)
            probabilities = model.predict_proba(features)
        rows = [(features[n].indices, features[n].data) for n in range(len(texts))]
    classes = list(model.classes_)
    predictions = []
    for (subject, body), text, row, (columns, values) in zip(
        items, texts, probabilities, rows, strict=True
    ):
        best = int(np.argmax(row))
        category = classes[best]
        priority, rules = suggest_priority(category, subject, body)
        predictions.append(
            Prediction(
                category=category,
                confidence=float(row[best]),
                priority=priority,
                words=_deciding_words(loaded.pipeline, columns, values, text, best),
                priority_rules=rules,
                model_version=loaded.version,
            )
        )
    return predictions


def _features(union: FeatureUnion, texts: list[str]) -> Any:
    """The union's features, side by side as its own transform puts them, without its
    per-call machinery: a joblib dispatch and output checks, a third of a prediction's time."""
    if union.transformer_weights or any(
        not hasattr(step, "transform") for _, step in union.transformer_list
    ):  # weighted, dropped or passed-through parts: the union knows how
        return union.transform(texts).tocsr()
    return scipy.sparse.hstack(
        [step.transform(texts) for _, step in union.transformer_list], format="csr"
    )


@dataclass(frozen=True)
class _Vectorizer:
    """What one TF-IDF part of the features needs to weigh a text's terms."""

    analyzer: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    idf: np.ndarray
    sublinear_tf: bool
    offset: int  # its first column among the union's


@dataclass(frozen=True)
class _OneText:
    """The pipeline's arithmetic for a single text: the same TF-IDF weights, side by side,
    and the same softmax over the same scores, without scikit-learn's per-call machinery
    (sparse matrices built, sorted and checked for one row), which for one ticket costs
    three times the arithmetic. Mail intake classifies one ticket at a time."""

    vectorizers: tuple[_Vectorizer, ...]
    coef: np.ndarray
    intercept: np.ndarray

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The text's non-zero features: columns in increasing order and their values."""
        columns: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for part in self.vectorizers:
            counts: dict[int, int] = {}
            for term in part.analyzer(text):
                column = part.vocabulary.get(term)
                if column is not None:
                    counts[column] = counts.get(column, 0) + 1
            if not counts:
                continue
            index = np.fromiter(sorted(counts), dtype=np.int64, count=len(counts))
            weights = np.array([counts[c] for c in index.tolist()], dtype=np.float64)
            if part.sublinear_tf:
                weights = np.log(weights) + 1
            weights *= part.idf[index]
            weights /= np.sqrt(np.dot(weights, weights))  # never 0: idf and tf are positive
            columns.append(index + part.offset)
            values.append(weights)
        if not columns:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        return np.concatenate(columns), np.concatenate(values)

    def probabilities(self, columns: np.ndarray, values: np.ndarray) -> np.ndarray:
        scores = self.coef[:, columns] @ values + self.intercept
        return scipy.special.softmax(scores)


_scorers: weakref.WeakKeyDictionary[Pipeline, _OneText | None] = weakref.WeakKeyDictionary()


def _one_text_scorer(pipeline: Pipeline) -> _OneText | None:
    """The single-text arithmetic of this pipeline, or None when it is not the kind this
    module builds (another weighting, a two-class model...): scikit-learn then does it all."""
    with _lock:  # web workers' threads share the models
        if pipeline not in _scorers:
            _scorers[pipeline] = _build_scorer(pipeline)
        return _scorers[pipeline]


def _build_scorer(pipeline: Pipeline) -> _OneText | None:
    union, model = pipeline.named_steps.get("features"), pipeline.named_steps.get("model")
    if not isinstance(union, FeatureUnion) or union.transformer_weights:
        return None
    if not (
        isinstance(model, LogisticRegression)
        and len(model.classes_) > 2
        # Multinomial (softmax) probabilities: other settings of older scikit-learn versions
        # score each class against the rest.
        and getattr(model, "multi_class", "multinomial") in ("multinomial", "auto", "deprecated")
        and model.solver != "liblinear"
    ):
        return None
    parts = []
    offset = 0
    for _, step in union.transformer_list:
        if not (
            isinstance(step, TfidfVectorizer)
            and step.norm == "l2"
            and step.use_idf
            and not step.binary
            and step.dtype == np.float64
        ):
            return None
        idf = np.asarray(step.idf_, dtype=np.float64)
        parts.append(
            _Vectorizer(step.build_analyzer(), step.vocabulary_, idf, step.sublinear_tf, offset)
        )
        offset += len(idf)
    return _OneText(tuple(parts), np.asarray(model.coef_), np.asarray(model.intercept_))


_names: dict[int, list[str]] = {}


def _feature_names(vectorizer: TfidfVectorizer) -> list[str]:
    # Building the names array costs more than a prediction: once per model.
    key = id(vectorizer)
    if key not in _names:
        _names[key] = list(vectorizer.get_feature_names_out())
    return _names[key]


def _deciding_words(
    pipeline: Pipeline,
    columns: np.ndarray,
    values: np.ndarray,
    text: str,
    class_index: int,
    limit: int = 5,
) -> list[str]:
    """The words of the text that pushed most towards the chosen category, as written.

    `columns` and `values` are the text's non-zero features: the word features come first.
    """
    words = pipeline.named_steps["features"].transformer_list[0][1]
    names = _feature_names(words)
    own = columns < len(names)
    columns = columns[own]
    weights = values[own] * pipeline.named_steps["model"].coef_[class_index][columns]
    ranked = sorted(zip(columns.tolist(), weights.tolist(), strict=True), key=lambda x: -x[1])
    stems = [names[i] for i, weight in ranked if weight > 0][: limit * 2]
    # Back from a stem to a word the merchant wrote ("notif" → "notifications").
    written: dict[str, str] = {}
    for word in _WORD.findall(text):
        for stem in analyse(word):
            written.setdefault(stem, word)
    shown: list[str] = []
    for stem in stems:
        word = written.get(stem, stem)
        if word.casefold() not in (s.casefold() for s in shown):
            shown.append(word)
        if len(shown) == limit:
            break
    return shown


# --- tickets -----------------------------------------------------------------------------------


def classify_new(ticket: Ticket, body: str, *, chosen: bool) -> TicketClassification | None:
    """Classify a ticket being opened (before its first commit).

    `chosen`: the merchant picked the category (the web form): it is kept, and a confident
    disagreement is shown to the agent. Otherwise (mail) the classifier's category is used.
    """
    try:
        prediction = predict(ticket.subject, body)
    except Exception:  # a broken model must never lose a ticket: it is opened unclassified
        log.exception("classifier failed; ticket opened without a classification")
        return None
    if prediction is None:
        return None
    record = TicketClassification(
        ticket=ticket,
        model_version=prediction.model_version,
        category=prediction.category,
        confidence=prediction.confidence,
        priority=prediction.priority,
        words=prediction.words,
        priority_rules=prediction.priority_rules,
        chosen_category=ticket.category.value if chosen and ticket.category else None,
        applied=not chosen,
    )
    if not chosen:
        ticket.category = Category(prediction.category)
    db.session.add(record)
    return record


def for_ticket(ticket: Ticket) -> TicketClassification | None:
    return db.session.scalar(
        select(TicketClassification).where(TicketClassification.ticket_id == ticket.id)
    )


def record_decision(ticket: Ticket, actor: User, category: Category) -> None:
    """An agent set or kept the ticket's category: the example the next training learns from.

    Called inside the agent's change; the caller commits.
    """
    # No autoflush: the ticket's change is flushed by the caller's commit, which is where a
    # concurrent edit must surface (as StaleTicket), not inside this lookup.
    with db.session.no_autoflush:
        record = for_ticket(ticket)
    if record is None or not actor.is_staff:
        return
    record.confirmed_category = category.value
    record.confirmed_by_id = actor.id
    record.confirmed_at = utcnow()


def confirm(ticket: Ticket, actor: User) -> None:
    """The agent keeps the ticket's category (the merchant's choice, or the classifier's)."""
    if not actor.is_staff:
        raise ServiceError(_l("Only the support team confirms a ticket's queue."))
    record_decision(ticket, actor, ticket.category)
    db.session.commit()


# --- training ----------------------------------------------------------------------------------


def confirmed_examples() -> list[dict[str, str]]:
    """Tickets an agent confirmed or corrected, and tickets the team resolved in their queue."""
    rows = db.session.execute(
        select(Ticket, TicketClassification.confirmed_category)
        .outerjoin(TicketClassification, TicketClassification.ticket_id == Ticket.id)
        .where(
            TicketClassification.confirmed_category.is_not(None)
            | Ticket.status.in_([Status.RESOLVED, Status.CLOSED])
        )
    ).all()
    examples = []
    for ticket, confirmed in rows:
        first = next((m for m in ticket.messages if not m.internal), None)
        examples.append(
            {
                "subject": ticket.subject,
                "body": first.body_text if first else "",
                "category": confirmed or ticket.category.value,
            }
        )
    return examples


@dataclass
class Evaluation:
    accuracy: float
    macro_f1: float
    run_recall: float  # a production incident sent elsewhere is the costliest mistake
    priority_accuracy: float | None
    held_out: int
    per_category: dict[str, float]

    def as_json(self) -> dict[str, Any]:
        return {
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "run_recall": round(self.run_recall, 4),
            "priority_accuracy": (
                round(self.priority_accuracy, 4) if self.priority_accuracy is not None else None
            ),
            "held_out": self.held_out,
            "f1_per_category": {k: round(v, 4) for k, v in self.per_category.items()},
        }


def evaluate(
    examples: list[dict[str, str]], *, test_size: float = 0.25, seed: int = 7
) -> Evaluation:
    """Train on part of the examples and measure on the rest (stratified, reproducible)."""
    labels = [e["category"] for e in examples]
    train, test = train_test_split(
        examples, test_size=test_size, random_state=seed, stratify=labels
    )
    pipeline = build_pipeline()
    pipeline.fit(
        [ticket_text(e["subject"], e["body"]) for e in train], [e["category"] for e in train]
    )
    loaded = Loaded(-1, pipeline)
    predicted = predict_many([(e["subject"], e["body"]) for e in test], loaded)
    truth = [e["category"] for e in test]
    guesses = [p.category for p in predicted]
    with_priority = [(e, p) for e, p in zip(test, predicted, strict=True) if e.get("priority")]
    return Evaluation(
        accuracy=float(accuracy_score(truth, guesses)),
        macro_f1=float(f1_score(truth, guesses, average="macro")),
        run_recall=float(
            recall_score(truth, guesses, labels=[Category.RUN.value], average="macro")
        ),
        priority_accuracy=(
            sum(e["priority"] == p.priority for e, p in with_priority) / len(with_priority)
            if with_priority
            else None
        ),
        held_out=len(test),
        per_category=dict(
            zip(
                CATEGORIES,
                (float(x) for x in f1_score(truth, guesses, labels=CATEGORIES, average=None)),
                strict=True,
            )
        ),
    )


@dataclass
class Trained:
    model: ClassifierModel
    evaluation: Evaluation


def train(corpus: Path | None = None, actor: User | None = None) -> Trained:
    """Train on the corpus and the agents' decisions, store it as the next version, use it."""
    directory = corpus or corpus_dir()
    shipped = read_corpus(directory) if directory else []
    confirmed = confirmed_examples()
    examples = shipped + confirmed
    counts = {c: sum(e["category"] == c for e in examples) for c in CATEGORIES}
    if min(counts.values()) < 4:
        raise ServiceError(
            _l(
                "Not enough examples to train: each queue needs at least 4 (%(counts)s).",
                counts=", ".join(f"{k} {v}" for k, v in counts.items()),
            )
        )
    evaluation = evaluate(examples)
    pipeline = fit(examples)
    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer, compress=3)
    version = (db.session.scalar(select(func.max(ClassifierModel.version))) or 0) + 1
    db.session.execute(ClassifierModel.__table__.update().values(active=False))
    model = ClassifierModel(
        version=version,
        corpus_examples=len(shipped),
        confirmed_examples=len(confirmed),
        metrics=evaluation.as_json(),
        blob=buffer.getvalue(),
        active=True,
        created_at=utcnow(),
    )
    db.session.add(model)
    audit.record(
        "classifier_trained", actor, target=f"v{version}", commit=False, **evaluation.as_json()
    )
    db.session.commit()
    return Trained(model, evaluation)


def models() -> list[ClassifierModel]:
    return list(
        db.session.scalars(select(ClassifierModel).order_by(ClassifierModel.version.desc()))
    )


def activate(version: int, actor: User | None = None) -> ClassifierModel:
    """Go back to (or forward to) a stored version."""
    model = db.session.scalar(select(ClassifierModel).where(ClassifierModel.version == version))
    if model is None:
        raise ServiceError(_l("There is no model version %(version)d.", version=version))
    db.session.execute(ClassifierModel.__table__.update().values(active=False))
    model.active = True
    audit.record("classifier_activated", actor, target=f"v{version}", commit=False)
    db.session.commit()
    return model
