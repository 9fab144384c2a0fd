"""微信公众号 (Official Account): fans' messages reach the CRM's 会话中心 and staff answer them there.

An operator authorises a 公众号 (微信授权: AppID, AppSecret, Token, EncodingAESKey, 明文/兼容/安全模式)
and picks a 默认客服. WeChat pushes every message and event to our server URL (callback); each is
checked (signature, timestamp, AES), stored once as a conversation message, handed to the bound
customer's owner or the 默认客服 with a 站内通知, and put into the event ledger (mp.message,
mp.subscribe, mp.unsubscribe, mp.menu_click) so strategies can act. Replies go out through the
customer-service message API within WeChat's 48-hour window. 微信粉丝 lists the followers and binds
them to customers by unionid or by hand.

Modules: models, accounts (settings, counters), client (API, access_token), callback (verification),
xmlmsg (defusedxml parsing), guard (retry/replay memory), inbound (store, route, events), mp_events,
outbound (the "mp" sender), fans (sync, binding), runtime (services, background pool), schedule."""
