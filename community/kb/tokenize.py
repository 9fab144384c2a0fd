"""Chinese tokenisation for the knowledge base: jieba words (a private Tokenizer loaded once, so our
custom words never leak into other users of jieba) plus character bigrams of every CJK run, which
keep a typo (「退欵」 for 「退款」) or an unsegmented phrase matching on the half it got right."""
from __future__ import annotations

import logging
import re
import threading
from typing import Iterable

import jieba

_lock = threading.Lock()
_tokenizer: "jieba.Tokenizer | None" = None
_words: set[str] = set()

# Function words and politeness that say nothing about the topic of a question.
STOPWORDS = frozenset("""
的 了 吗 呢 吧 啊 呀 哦 哈 嘛 么 是 在 有 我 你 您 他 她 它 我们 你们 他们 这 那 这个 那个 一下 一个 请问 问 问下 问一下
想 想问 想知道 请 麻烦 谢谢 好 好的 可以 能 能不能 可不可以 会 要 需要 怎么 怎么样 怎样 如何 什么 啥 多少 几 哪 哪里 哪儿
为什么 吗? 就 还 也 都 和 与 及 跟 或 或者 呗 嗯 额 诶 喂 亲 客服 老师 小姐姐 在吗 现在 然后 还是 如果 的话 给 让 被 把 对 吧
""".split())
_CJK = re.compile(r"[\u4e00-\u9fff]+")
_WORD = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]+")


def _load() -> "jieba.Tokenizer":
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                jieba.setLogLevel(logging.WARNING)  # its "Building prefix dict…" lines are noise in our logs
                tok = jieba.Tokenizer()
                tok.initialize()
                _tokenizer = tok
    return _tokenizer


def add_words(words: Iterable[str]) -> None:
    """Custom words from the entries (product names, activity names) so jieba keeps them whole."""
    tok = _load()
    with _lock:
        for w in words:
            w = (w or "").strip()
            if 2 <= len(w) <= 20 and w not in _words and _WORD.fullmatch(w):
                tok.add_word(w, freq=2000)
                _words.add(w)


def words(text: str) -> list[str]:
    tok = _load()
    text = (text or "").lower()
    out = []
    for w in tok.lcut(text, HMM=False):  # HMM off: faster and stable across versions
        w = w.strip()
        if w and _WORD.fullmatch(w) and w not in STOPWORDS:
            out.append(w)
    return out


def bigrams(text: str) -> list[str]:
    out = []
    for run in _CJK.findall((text or "").lower()):
        out.extend("#" + run[i:i + 2] for i in range(len(run) - 1))
    return out


def tokens(text: str) -> list[str]:
    """Words, then bigrams (prefixed with # so a two-character word and a bigram stay distinct terms)."""
    return words(text) + [b for b in bigrams(text) if b[1:] not in STOPWORDS]
