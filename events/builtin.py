"""内置事件: the events 晓售 ships with, imported by "导入内置事件".

Each entry's key is stable (stored as builtin_key); later issues append device and lead events.
"""
from __future__ import annotations


def _f(name, type_, label, required=False, remark=""):
    return {"name": name, "type": type_, "label": label, "required": required, "remark": remark}


# Field names are exactly what the customer center's emit() calls send. CRM, lead and device events
# name their fields in snake_case (customer_id, customer_name, …), the style of nearly all of them
# and of the database columns they come from; the camelCase fields of the 晓售 sample events below
# are those apps' own payloads. (crm.customer_created used camelCase until migration 0012.) Every
# CRM event carries the customer's id, which the CRM processors use to find the customer again.
def _tag_change(key: str, code: str, name: str, remark: str, how: str) -> dict:
    return {
        "key": key, "code": code, "name": name, "remark": remark,
        "fields": [_f("customer_id", "number", "客户ID", True), _f("tag_ids", "list", "标签ID列表"),
                   _f("tag_names", "list", "标签名称列表"), _f("tag_name", "text", "标签名称", remark="多个用、连接"),
                   _f("source", "text", how), _f("operator_id", "number", "操作人ID", remark="规则或策略触发时为空")],
    }


CRM_EVENTS: list[dict] = [
    {
        "key": "crm_customer_created", "code": "crm.customer_created", "name": "客户创建",
        "remark": "客户中心新增了客户（手工录入、导入或接口）",
        "fields": [_f("customer_id", "number", "客户ID", True), _f("customer_name", "text", "客户名称"),
                   _f("mobile", "text", "手机号"), _f("email", "text", "邮件"), _f("owner_id", "number", "负责人ID"),
                   _f("source", "text", "客户来源"), _f("city", "text", "城市"), _f("created_at", "datetime", "创建时间"),
                   _f("operator_id", "number", "操作人ID")],
    },
    _tag_change("crm_tag_added", "crm.tag_added", "客户被打标签", "客户获得标签（手动、自动规则、导入或策略）",
                "打标方式（manual/auto/strategy/import）"),
    _tag_change("crm_tag_removed", "crm.tag_removed", "客户标签被移除", "客户的标签被移除（手动、规则不再满足、到期或策略）",
                "移除方式（manual/auto/expiry/strategy）"),
    {
        "key": "crm_customer_assigned", "code": "crm.customer_assigned", "name": "客户被分配",
        "remark": "客户被分配给业务员（分配规则、手动分配、批量转移或策略）",
        "fields": [_f("customer_id", "number", "客户ID", True), _f("group_id", "number", "分组ID", remark="批量转移时为空"),
                   _f("user_id", "number", "业务员ID", True)],
    },
    {
        "key": "crm_customer_recycled", "code": "crm.customer_recycled", "name": "客户被回收",
        "remark": "客户退回分组公海、公司公海或进入回收站",
        "fields": [_f("customer_id", "number", "客户ID", True), _f("group_id", "number", "分组ID"),
                   _f("from_user_id", "number", "原业务员ID"),
                   _f("destination", "text", "去向", remark="group_pool 分组公海 / company_pool 公司公海 / recycle_bin 回收站")],
    },
    {
        "key": "crm_followup_recorded", "code": "crm.followup_recorded", "name": "记录跟进",
        "remark": "业务员为客户记录了一次跟进",
        "fields": [_f("customer_id", "number", "客户ID", True), _f("customer_name", "text", "客户名称"),
                   _f("mobile", "text", "手机号"), _f("email", "text", "邮件"), _f("user_id", "number", "跟进人ID"),
                   _f("follow_up_id", "number", "跟进记录ID"), _f("way", "text", "跟进方式", remark="phone/wechat/visit/sms/email/other"),
                   _f("status", "text", "跟进状态", remark="following/intent/deal/invalid"), _f("maturity", "number", "成熟度"),
                   _f("content", "text", "跟进内容"), _f("next_follow_on", "datetime", "下次跟进日期"),
                   _f("task_id", "number", "完成的任务ID"), _f("next_task_id", "number", "下次跟进任务ID")],
    },
    {
        "key": "crm_task_overdue", "code": "crm.task_overdue", "name": "任务逾期",
        "remark": "任务中心的任务过了截止时间仍未完成",
        "fields": [_f("task_id", "number", "任务ID", True), _f("title", "text", "任务标题"),
                   _f("kind", "text", "任务类型", remark="normal/follow_up"), _f("owner_id", "number", "负责人ID"),
                   _f("creator_id", "number", "创建人ID"), _f("customer_id", "number", "客户ID"),
                   _f("priority", "text", "优先级", remark="low/normal/high/urgent"), _f("deadline", "datetime", "截止时间")],
    },
]

BUILTIN_EVENTS: list[dict] = [
    {
        "key": "product_maturity", "code": "product_maturity", "name": "理财产品到期",
        "remark": "客户持有的理财产品到期",
        "fields": [
            _f("customerName", "text", "客户名称", True), _f("mobile", "text", "手机号", True),
            _f("email", "text", "邮件"), _f("productName", "text", "产品名称", True),
            _f("amount", "number", "到期金额"), _f("maturityDate", "datetime", "到期时间", True),
        ],
    },
    {
        "key": "password_changed", "code": "password_changed", "name": "修改密码事件",
        "remark": "用户修改密码",
        "fields": [
            _f("email", "text", "邮件"), _f("tx", "datetime", "修改密码时间"),
            _f("customerName", "text", "用户名", True), _f("mobile", "text", "手机号", True),
            _f("status", "text", "修改状态", True, "值为1或者0"),
        ],
    },
    {
        "key": "birthday", "code": "birthday_reminder", "name": "生日提醒事件",
        "remark": "客户生日前提醒",
        "fields": [
            _f("customerName", "text", "客户名称", True), _f("mobile", "text", "手机号", True),
            _f("email", "text", "邮件"), _f("birthday", "datetime", "生日", True),
        ],
    },
    {
        "key": "tag_customer", "code": "tag_customer", "name": "为客户打标签",
        "remark": "外部系统要求为客户打标签",
        "fields": [
            _f("customerId", "text", "客户ID"), _f("mobile", "text", "手机号"),
            _f("tagName", "text", "标签名称", True),
        ],
    },
    {
        "key": "customer_trade", "code": "customer_trade", "name": "客户交易",
        "remark": "客户发生一笔交易",
        "fields": [
            _f("customerName", "text", "客户名称", True), _f("mobile", "text", "手机号", True),
            _f("email", "text", "邮件"), _f("orderNo", "text", "订单号", True),
            _f("amount", "number", "交易金额", True), _f("productName", "text", "产品名称"),
            _f("tradeTime", "datetime", "交易时间"),
        ],
    },
    {
        "key": "user_registered", "code": "register", "name": "新用户注册",
        "remark": "新用户完成注册",
        "fields": [
            _f("customerName", "text", "用户名", True), _f("mobile", "text", "手机号", True),
            _f("email", "text", "邮件"), _f("channel", "text", "注册渠道"),
            _f("registeredAt", "datetime", "注册时间"),
        ],
    },
    {
        "key": "bank_withholding", "code": "bank_withholding", "name": "银行代扣还款",
        "remark": "还款方式：银行代扣",
        "fields": [
            _f("loan_date", "datetime", "还款时间"), _f("customerName", "text", "客户名称"),
            _f("mobile", "text", "手机号"), _f("email", "text", "邮件"),
            _f("loan_type", "text", "还款方式", True), _f("loan_status", "text", "还款状态"),
            _f("rep_amount", "number", "应还款金额"), _f("is_last_period", "boolean", "是否最后一期"),
        ],
    },
    {
        "key": "survey_submitted", "code": "survey_submitted", "name": "提交调研问卷",
        "remark": "客户提交满意度调研问卷",
        "fields": [
            _f("customerName", "text", "客户名称", True), _f("email", "text", "邮件", True),
            _f("mobile", "text", "手机号"), _f("score", "number", "问卷评分", True),
            _f("vipLevel", "number", "VIP等级", True),
        ],
    },
    # 客户中心 (issue 3): CRM changes emitted by crm.events_out.emit with source "crm".
    *CRM_EVENTS,
]


# 设备 (issue 4): what phones report through the device gateway (source "device"), the results of
# the commands they were sent, and the schedule triggers. Field names are the gateway's contract.
_ACCOUNT = [_f("account_id", "number", "微信号ID", True), _f("account_wxid", "text", "微信号wxid")]
DEVICE_EVENTS: list[dict] = [
    {"key": "device_friend_request", "code": "device.friend_request", "name": "收到好友请求",
     "remark": "设备上的微信号收到新的好友请求",
     "fields": _ACCOUNT + [_f("from_wxid", "text", "请求人wxid", True), _f("nickname", "text", "请求人昵称"),
                           _f("greeting", "text", "验证消息"), _f("source", "text", "来源", remark="search/qrcode/group/card/phone"),
                           _f("request_id", "number", "好友请求ID")]},
    {"key": "device_friend_added", "code": "device.friend_added", "name": "新增好友",
     "remark": "微信号新增了一位好友（通过请求或主动添加）",
     "fields": _ACCOUNT + [_f("wxid", "text", "好友wxid", True), _f("nickname", "text", "好友昵称"),
                           _f("mobile", "text", "手机号"), _f("source", "text", "来源")]},
    {"key": "device_friend_deleted", "code": "device.friend_deleted", "name": "好友被删除",
     "remark": "好友删除了微信号，或微信号删除了好友",
     "fields": _ACCOUNT + [_f("wxid", "text", "好友wxid", True), _f("nickname", "text", "好友昵称"),
                           _f("by_friend", "boolean", "是否对方删除")]},
    {"key": "device_message", "code": "device.message", "name": "收到消息",
     "remark": "微信号收到私聊或群聊消息",
     "fields": _ACCOUNT + [_f("from_wxid", "text", "发送人wxid", True), _f("nickname", "text", "发送人昵称"),
                           _f("chatroom_id", "text", "群ID", remark="私聊为空"), _f("is_group", "boolean", "是否群消息"),
                           _f("text", "text", "消息内容"), _f("msg_type", "text", "消息类型", remark="text/image/link/…"),
                           _f("msg_id", "text", "消息ID", remark="手机上的消息ID；同一消息只存一次")]},
    {"key": "device_group_member_joined", "code": "device.group_member_joined", "name": "新成员入群",
     "remark": "有人加入了微信号所在的群",
     "fields": [_f("account_id", "number", "微信号ID", True), _f("chatroom_id", "text", "群ID", True),
                _f("group_id", "number", "群记录ID"), _f("group_name", "text", "群名称"),
                _f("members", "list", "入群成员", remark="[{wxid, nickname}]"), _f("wxids", "list", "入群成员wxid列表")]},
    {"key": "device_group_member_left", "code": "device.group_member_left", "name": "成员退群",
     "remark": "有人退出或被移出微信号所在的群",
     "fields": [_f("account_id", "number", "微信号ID", True), _f("chatroom_id", "text", "群ID", True),
                _f("group_id", "number", "群记录ID"), _f("group_name", "text", "群名称"),
                _f("members", "list", "退群成员", remark="[{wxid, nickname}]"), _f("wxids", "list", "退群成员wxid列表")]},
    {"key": "device_moment_posted", "code": "device.moment_posted", "name": "好友发朋友圈",
     "remark": "微信号的好友发布了朋友圈",
     "fields": [_f("account_id", "number", "微信号ID", True), _f("moment_id", "text", "朋友圈ID", True),
                _f("friend_wxid", "text", "好友wxid", True), _f("text", "text", "内容"), _f("has_media", "boolean", "是否含图片/视频")]},
    {"key": "device_command_result", "code": "device.command_result", "name": "设备指令结果",
     "remark": "发给手机的指令执行完成（成功、失败或超时）",
     "fields": [_f("command_id", "number", "指令ID", True), _f("kind", "text", "指令类型", True), _f("ok", "boolean", "是否成功", True),
                _f("error", "text", "失败原因"), _f("account_id", "number", "微信号ID")]},
    {"key": "device_risk_signal", "code": "device.risk_signal", "name": "风控信号",
     "remark": "微信提示操作过于频繁、需要验证、被投诉、封号或被好友删除",
     "fields": [_f("account_id", "number", "微信号ID", True),
                _f("kind", "text", "信号类型", True, "too_frequent/verification/complaint/banned/deleted_by_friend"),
                _f("text", "text", "提示内容")]},
    {"key": "device_offline", "code": "device.offline", "name": "设备离线",
     "remark": "设备超过 3 个心跳周期没有消息，已标记离线",
     "fields": [_f("device_id", "number", "设备ID", True), _f("device_name", "text", "设备名称"),
                _f("last_seen_at", "datetime", "最后心跳时间"), _f("account_ids", "list", "设备上的微信号ID"),
                _f("owner_user_ids", "list", "微信号负责人ID")]},
    {"key": "schedule_fired", "code": "schedule.fired", "name": "定时触发",
     "remark": "策略的定时触发器到点（cron 或一次性）",
     "fields": [_f("schedule_key", "text", "定时键", True), _f("strategy_id", "number", "策略ID"),
                _f("fired_at", "datetime", "触发时间")]},
]
BUILTIN_EVENTS += DEVICE_EVENTS

# 定向营销 (engine.marketing) stores one of these per customer of a push, with its send step planned
# on it (source "marketing"), so every push message has its history, retries and dead letter.
BUILTIN_EVENTS.append({
    "key": "crm_marketing_push", "code": "crm.marketing_push", "name": "定向营销推送",
    "remark": "定向营销计划向一位客户推送短信或邮件（每次推送每位客户一条）",
    "fields": [_f("customer_id", "number", "客户ID", True), _f("plan_id", "number", "营销计划ID", True),
               _f("run_id", "number", "推送批次ID", True), _f("channel", "text", "渠道", remark="sms/email"),
               _f("name", "text", "客户名称"), _f("mobile", "text", "手机号"), _f("email", "text", "邮件")]})
# 短信推送 (engine.sms_push): one per customer a salesperson texts from 客户档案 (source "console").
BUILTIN_EVENTS.append({
    "key": "crm_sms_push", "code": "crm.sms_push", "name": "短信推送",
    "remark": "员工在客户档案中勾选客户推送短信（每位客户一条）",
    "fields": [_f("customer_id", "number", "客户ID", True), _f("push", "text", "推送批次", True),
               _f("sender_id", "number", "发送人ID", True), _f("template", "text", "短信模板"),
               _f("name", "text", "客户名称"), _f("mobile", "text", "手机号"), _f("content", "text", "短信内容")]})
DEVICE_EVENT_KEYS = tuple(e["key"] for e in DEVICE_EVENTS)

# 商品与订单 (issue 11): commerce emits these through crm.events_out.emit (source "commerce"), so a
# strategy can thank a buyer, ask for a review, remind a 复购 after N days or restock. Amounts in 分.
_ORDER = [_f("order_id", "number", "订单ID", True), _f("order_no", "text", "订单号", True),
          _f("customer_id", "number", "客户ID", True), _f("customer_name", "text", "客户名称"),
          _f("credited_user_id", "number", "业绩归属员工ID"), _f("source", "text", "订单来源"),
          _f("total_fen", "number", "订单金额（分）"), _f("paid_fen", "number", "实付金额（分）"),
          _f("refunded_fen", "number", "累计退款（分）"), _f("product_names", "list", "商品名称列表"),
          _f("sku_codes", "list", "SKU 编码列表"), _f("channel_id", "number", "渠道ID"), _f("scene_id", "number", "场景ID"),
          _f("order_count", "number", "客户累计购买次数"), _f("at", "datetime", "发生时间")]
COMMERCE_EVENTS: list[dict] = [
    {"key": "order_created", "code": "order.created", "name": "订单创建", "remark": "新订单（待支付）", "fields": _ORDER},
    {"key": "order_paid", "code": "order.paid", "name": "订单支付", "remark": "订单已支付（成交）", "fields": _ORDER},
    {"key": "order_shipped", "code": "order.shipped", "name": "订单发货", "remark": "订单已发货", "fields": _ORDER},
    {"key": "order_completed", "code": "order.completed", "name": "订单完成", "remark": "订单已完成（确认收货）", "fields": _ORDER},
    {"key": "order_cancelled", "code": "order.cancelled", "name": "订单取消", "remark": "订单已取消（含超时未支付）", "fields": _ORDER},
    {"key": "order_refunded", "code": "order.refunded", "name": "订单退款", "remark": "订单发生退款（部分或全部）",
     "fields": _ORDER + [_f("refund_fen", "number", "本次退款（分）", True), _f("full", "boolean", "是否全额退款")]},
    {"key": "product_stock_low", "code": "product.stock_low", "name": "库存不足",
     "remark": "SKU 可售库存降到预警值或以下",
     "fields": [_f("sku_id", "number", "SKU ID", True), _f("sku_code", "text", "SKU 编码"), _f("spu_id", "number", "商品ID"),
                _f("product_name", "text", "商品名称"), _f("available", "number", "可售库存", True),
                _f("threshold", "number", "预警值")]},
]
BUILTIN_EVENTS += COMMERCE_EVENTS
COMMERCE_EVENT_KEYS = tuple(e["key"] for e in COMMERCE_EVENTS)

# 场景获客 alerts (crm/leads/alerts.py): raised once per episode (events/episodes.py), so a strategy
# can notify the scene's owner by 站内通知 / 短信 / 邮件 when intake is in trouble.
_DOUYIN_ACCOUNT = [_f("account_id", "number", "抖音号记录ID", True), _f("scene_id", "number", "场景ID", True),
                   _f("open_id", "text", "抖音 open_id"), _f("nickname", "text", "抖音昵称"), _f("health", "text", "授权状态"),
                   _f("refresh_expires_at", "text", "授权失效时间"), _f("episode", "number", "第几次")]
LEAD_ALERT_EVENTS: list[dict] = [
    {"key": "lead_deadletter_piling", "code": "lead.deadletter_piling", "name": "线索死信堆积",
     "remark": "未处理的线索死信达到阈值（每次堆积只提醒一次，清理到阈值以下后重新计）",
     "fields": [_f("open_count", "number", "未处理死信数", True), _f("threshold", "number", "阈值"),
                _f("by_scene", "list", "按场景", remark="[{scene_id, scene_name, count}]"), _f("episode", "number", "第几次")]},
    {"key": "lead_callbacks_refused", "code": "lead.callbacks_refused", "name": "回调被拒过多",
     "remark": "最近一小时被拒绝的平台回调次数达到阈值（签名错误、重放、超频等）",
     "fields": [_f("count", "number", "最近一小时被拒次数", True), _f("threshold", "number", "阈值"),
                _f("by_reason", "list", "按原因", remark="[{reason, label, count}]"), _f("episode", "number", "第几次")]},
    {"key": "lead_pull_failing", "code": "lead.pull_failing", "name": "平台拉取连续失败",
     "remark": "订单同步 / 抖音粉丝同步连续失败达到阈值",
     "fields": [_f("scene_id", "number", "场景ID", True), _f("scene_name", "text", "场景名称"),
                _f("failures", "number", "连续失败次数", True), _f("last_error", "text", "最近错误"),
                _f("threshold", "number", "阈值"), _f("episode", "number", "第几次")]},
    {"key": "douyin_token_expiring", "code": "douyin.token_expiring", "name": "抖音授权即将失效",
     "remark": "抖音号的授权（refresh token）将在设定天数内失效，需要账号主人重新授权",
     "fields": _DOUYIN_ACCOUNT},
    {"key": "douyin_token_invalid", "code": "douyin.token_invalid", "name": "抖音授权失效",
     "remark": "抖音号的授权已过期或被撤销，该账号的粉丝同步已停止",
     "fields": _DOUYIN_ACCOUNT + [_f("reason", "text", "原因")]},
]
BUILTIN_EVENTS += LEAD_ALERT_EVENTS
LEAD_ALERT_EVENT_KEYS = tuple(e["key"] for e in LEAD_ALERT_EVENTS)


# 电话获客 outbound (crm/leads/call_results.py): a call's progress, so strategies tag, assign and follow up.
_CALL = [_f("call_id", "text", "通话ID", True), _f("task_id", "number", "外呼任务ID"), _f("lead_id", "number", "线索ID"),
         _f("customer_id", "number", "客户ID"), _f("seat_user_id", "number", "座席（员工）ID"), _f("mobile", "text", "被叫号码")]
CALL_EVENTS: list[dict] = [
    {"key": "call_answered", "code": "call.answered", "name": "外呼接通", "remark": "外呼电话被接通", "fields": _CALL},
    {"key": "call_ended", "code": "call.ended", "name": "外呼结束", "remark": "外呼电话结束（含未接通、忙线）",
     "fields": _CALL + [_f("duration", "number", "通话时长（秒）"), _f("result", "text", "结果", remark="answered/no_answer/busy/failed"),
                        _f("result_label", "text", "结果（中文）"), _f("intent", "text", "意向", remark="高/中/低/无"),
                        _f("notes", "text", "通话备注")]},
]
BUILTIN_EVENTS += CALL_EVENTS
CALL_EVENT_KEYS = tuple(e["key"] for e in CALL_EVENTS)


def builtin_by_key() -> dict[str, dict]:
    return {e["key"]: e for e in BUILTIN_EVENTS}

