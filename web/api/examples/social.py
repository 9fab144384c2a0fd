"""Examples of the /api routes in web/api/social.py (request body and answers by status), shown in the
OpenAPI document and Swagger UI; names follow the operationIds."""

LIST_SOCIAL_GROUPS = {
    "200": {
        "items": [
            {
                "id": 1001,
                "name": "宝妈交流群",
                "account_id": 3,
                "account": "运营小美",
                "group_owner": "运营小美（本号）",
                "owner_user_id": 5,
                "owner": "张店长",
                "members": 312,
                "today_messages": 48,
                "today_speakers": 17,
                "today_joins": 4,
                "today_quits": 1,
                "week_messages": 655,
                "week_speakers": 96,
                "week_joins": 21,
                "week_quits": 6,
                "lurker_rate": 69.2,
                "last_message_at": "2026-12-07T12:03:00+00:00",
                "tags": ["VIP"],
            },
        ],
        "total": 1,
        "page": 1,
        "size": 20,
    },
}

CREATE_GROUP_BROADCAST = {
    "request": {"groupIds": [14, 15], "msgType": "text", "content": "今晚 8 点群内秒杀", "scheduledTime": "2026-12-07 19:30"},
    "202": {"broadcastId": 66, "status": "scheduled", "groups": 2},
}

GET_GROUP_BROADCAST_REPORT = {
    "200": {
        "broadcastId": 66,
        "status": "done",
        "statusLabel": "已完成",
        "msgType": "text",
        "scheduledTime": "2026-12-07T11:30:00+00:00",
        "deadline": "2026-12-07T13:30:00+00:00",
        "total": 2,
        "delivered": 2,
        "failed": 0,
        "pending": 0,
        "deliveryRate": 100.0,
        "groups": [
            {
                "groupId": 1001,
                "groupName": "宝妈交流群",
                "accountId": 3,
                "account": "运营小美",
                "status": "delivered",
                "statusLabel": "已送达",
                "reason": "",
                "tries": 1,
                "deliveredAt": "2026-12-07T11:30:09+00:00",
            },
        ],
    },
}
