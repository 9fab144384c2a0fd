"""BM25 (Okapi) over token lists, small and dependency-free; plus a confidence in 0..1.

Raw BM25 scores are not comparable across questions, so the threshold uses `confidence`: the share
of the question's IDF weight that the best passage covers. A question about something the base does
not know is mostly made of terms the corpus never saw (they weigh the most), so its coverage stays
low however well one stray word matches."""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass


@dataclass
class Hit:
    doc: int
    score: float
    confidence: float


class BM25:
    def __init__(self, docs: list[list[str]], k1: float = 1.4, b: float = 0.6):
        self.k1, self.b = k1, b
        self.n = len(docs)
        self.lengths = [len(d) for d in docs]
        self.avg = (sum(self.lengths) / self.n) if self.n else 0.0
        self.postings: dict[str, list[tuple[int, int]]] = {}
        self.terms: list[set[str]] = []
        for i, doc in enumerate(docs):
            counts = Counter(doc)
            self.terms.append(set(counts))
            for term, tf in counts.items():
                self.postings.setdefault(term, []).append((i, tf))
        self.idf = {t: math.log(1 + (self.n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self.postings.items()}
        # A term nobody used is as rare as rare gets (what makes an out-of-scope question weigh a lot).
        self.unseen_idf = math.log(1 + (self.n + 0.5) / 0.5)

    def weight(self, term: str) -> float:
        return self.idf.get(term, self.unseen_idf)

    def search(self, query: list[str], limit: int = 3) -> list[Hit]:
        if not self.n or not query:
            return []
        q = Counter(query)
        scores: dict[int, float] = {}
        for term, qtf in q.items():
            postings = self.postings.get(term)
            if not postings:
                continue
            idf = self.idf[term]
            for doc, tf in postings:
                norm = tf * (self.k1 + 1) / (tf + self.k1 * (1 - self.b + self.b * self.lengths[doc] / self.avg))
                scores[doc] = scores.get(doc, 0.0) + idf * norm * qtf
        best = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        total = sum(self.weight(t) * c for t, c in q.items())
        return [Hit(doc, score, self._coverage(q, doc, total)) for doc, score in best]

    def _coverage(self, q: Counter, doc: int, total: float) -> float:
        if total <= 0:
            return 0.0
        covered = sum(self.weight(t) * c for t, c in q.items() if t in self.terms[doc])
        return covered / total
