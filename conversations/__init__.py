"""会话中心: every message our staff exchange with customers, whatever the channel (a phone's WeChat
account, 企业微信, 公众号), kept once per message in one store; the 触客宝 chat built on it; the
快捷回复库 (话术库) staff pick answers from; and 1:1 消息群发 to friends, paced by the accounts' risk budget.

A conversation is one account talking with one friend, group or fan. Phones report messages through the
device gateway, which hands each one to `conversations.store.record_message` in the same transaction as
the report, so a message is stored before the phone's report is acknowledged."""
