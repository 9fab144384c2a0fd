"""智能回复: a knowledge base (topics, Q&A pairs, documents split into passages) answering customer
questions with jieba words + character bigrams ranked by BM25, a confidence threshold below which
the conversation is handed to a human (待人工), an optional LLM that phrases the retrieved answer,
and a log of every answer that staff mark 已解决 / 未解决 (解决率)."""
