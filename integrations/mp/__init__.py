"""微信公众号 (Official Account)."""
