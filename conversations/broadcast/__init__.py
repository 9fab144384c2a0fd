"""1:1 消息群发: one message to many friends, each sent in the friend's private conversation through
conversations.outbound.send (so through the risk budget), paced per account, guarded per friend per
week, with a per-recipient delivery report."""
