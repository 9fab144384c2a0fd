"""Optional phrasing by an LLM: any OpenAI-compatible chat-completions endpoint
(POST {CKB_KB_LLM_URL}/v1/chat/completions, Bearer CKB_KB_LLM_KEY — stored sealed with the
server's SecretBox). The model only rewords the retrieved passages; on any failure or timeout the
retrieved answer is sent as it is, so a slow provider never leaves a customer without an answer."""
from __future__ import annotations

import logging

import requests

from config.errors import ConfigError
from config.secrets_box import SecretBox

log = logging.getLogger(__name__)
MAX_ANSWER_CHARS = 1000
SYSTEM_PROMPT = ("你是母婴/零售品牌的私域客服。只根据提供的资料回答顾客的问题，语气亲切、简洁（不超过 150 字）；"
                 "资料里没有的信息不要编造，直接说需要转人工确认。")


def configured(settings) -> bool:
    return bool((settings.kb_llm_url or "").strip())


def _key(settings) -> str:
    sealed = (settings.kb_llm_key or "").strip()
    if not sealed:
        return ""
    return SecretBox(settings.resolved_secret_key()).open(sealed)


def phrase(settings, question: str, passages: list[str]) -> str | None:
    """The model's answer, or None (not configured, timed out, refused, malformed)."""
    if not configured(settings):
        return None
    try:
        key = _key(settings)
    except ConfigError:
        log.warning("kb llm key cannot be opened with this CKB_SECRET_KEY; answering without the LLM")
        return None
    context = "\n".join(f"[{i + 1}] {p}" for i, p in enumerate(passages))
    body = {"model": settings.kb_llm_model, "temperature": 0.2,
            "messages": [{"role": "system", "content": SYSTEM_PROMPT},
                         {"role": "user", "content": f"资料：\n{context}\n\n顾客问题：{question}"}]}
    url = settings.kb_llm_url.rstrip("/") + "/v1/chat/completions"
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        resp = requests.post(url, json=body, headers=headers, timeout=settings.kb_llm_timeout_seconds)
        resp.raise_for_status()
        text = resp.json()["choices"][0]["message"]["content"]
    except (requests.RequestException, ValueError, KeyError, IndexError, TypeError) as exc:
        log.warning("kb llm call failed, answering with the retrieved text: %s", type(exc).__name__)
        return None
    text = str(text or "").strip()
    return text[:MAX_ANSWER_CHARS] or None
