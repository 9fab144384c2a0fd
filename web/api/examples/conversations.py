"""Examples of the /api routes in web/api/conversations.py (request body and answers by status), shown in the
OpenAPI document and Swagger UI; names follow the operationIds."""

CONVERSATION = {
    "id": 41,
    "channel": "wechat",
    "channel_label": "个人微信",
    "kind": "private",
    "title": "陈女士",
    "peer_id": "wxid_lead01",
    "account_id": 3,
    "account": "小美（客服1）",
    "customer_id": 12,
    "last_message_at": "2026-12-07T06:30:00+00:00",
    "last_message_text": "价格多少",
    "last_direction": "in",
    "unread_count": 2,
    "unreplied": True,
    "assignee_id": None,
    "tags": ["意向客户"],
}

MESSAGE = {
    "id": 901,
    "conversation_id": 41,
    "direction": "out",
    "msg_type": "text",
    "text": "您好，套餐 199 元",
    "payload": {},
    "sender_name": "小美",
    "sent_at": "2026-12-07T06:31:00+00:00",
    "status": "deferred",
    "status_label": "已延后",
    "reason": "发送间隔：距上一条不足 7 秒，已排到 14:31:07",
    "command_id": 5012,
}

LIST_CONVERSATIONS = {"200": {"items": [CONVERSATION], "page": 1, "size": 30}}

LIST_CONVERSATION_MESSAGES = {"200": {"items": [MESSAGE], "more": False}}

SEND_CONVERSATION_MESSAGE = {"request": {"kind": "text", "text": "您好，订单已发货", "client_key": "c-20261207-1"}, "201": MESSAGE}

TRANSFER_CONVERSATION = {"request": {"to_user_id": 5, "note": "客户咨询售后，转给客服"}, "200": {**CONVERSATION, "owner_user_id": 5}}
