"""内置处理器: ready-made steps — HTTP 请求, 发送邮件, 发送短信, 站内通知, 写日志, and the customer
center's steps (打标签, 移除标签, 移入客户分组, 分配客户, 创建任务, 发送模板消息, 通知客户负责人).

One plugin per module; BUILTIN_PROCESSORS is what `handlers.registry.default_registry` loads.
"""
from __future__ import annotations

from handlers.builtin.crm_assign import AssignProcessor
from handlers.builtin.crm_group import MoveToGroupProcessor
from handlers.builtin.crm_message import SendTemplateProcessor
from handlers.builtin.crm_notify_owner import NotifyOwnerProcessor
from handlers.builtin.crm_tag import AddTagProcessor, RemoveTagProcessor
from handlers.builtin.crm_task import CreateTaskProcessor
from handlers.builtin.email import EmailProcessor
from handlers.builtin.http import HttpProcessor
from handlers.builtin.log import LogProcessor
from handlers.builtin.notify import NotifyProcessor
from handlers.builtin.sms import SmsProcessor

BUILTIN_PROCESSORS = (HttpProcessor, EmailProcessor, SmsProcessor, NotifyProcessor, LogProcessor,
                      # 客户中心 (issue 3)
                      AddTagProcessor, RemoveTagProcessor, MoveToGroupProcessor, AssignProcessor,
                      CreateTaskProcessor, SendTemplateProcessor, NotifyOwnerProcessor)

# 设备 (issue 4): steps that drive phones, every command through the risk budget.
from handlers.builtin.device_accept_friend import AcceptFriendProcessor  # noqa: E402
from handlers.builtin.device_add_friend import AddFriendProcessor  # noqa: E402
from handlers.builtin.device_comment_moment import CommentMomentProcessor  # noqa: E402
from handlers.builtin.device_create_group import CreateGroupProcessor  # noqa: E402
from handlers.builtin.device_invite_to_group import InviteToGroupProcessor  # noqa: E402
from handlers.builtin.device_like_moment import LikeMomentProcessor  # noqa: E402
from handlers.builtin.device_post_moment import PostMomentProcessor  # noqa: E402
from handlers.builtin.device_send_message import SendMessageProcessor  # noqa: E402
from handlers.builtin.device_set_announcement import SetAnnouncementProcessor  # noqa: E402
from handlers.builtin.device_tag_friend import TagFriendProcessor  # noqa: E402

BUILTIN_PROCESSORS += (AcceptFriendProcessor, AddFriendProcessor, SendMessageProcessor, LikeMomentProcessor,
                       CommentMomentProcessor, PostMomentProcessor, CreateGroupProcessor, InviteToGroupProcessor,
                       SetAnnouncementProcessor, TagFriendProcessor)

# 工作台 (issue 4): the steps the workbench templates use.
from handlers.builtin.device_distribute import DistributeProcessor  # noqa: E402
from handlers.builtin.device_group_welcome import GroupWelcomeProcessor  # noqa: E402
from handlers.builtin.workbench_auto_group import AutoGroupProcessor, AutoGroupSetupProcessor  # noqa: E402
from handlers.builtin.workbench_auto_like import AutoLikeProcessor  # noqa: E402
from handlers.builtin.workbench_checkin import CheckInProcessor  # noqa: E402
from handlers.builtin.workbench_group_push import GroupPushProcessor, GroupPushRetryProcessor  # noqa: E402
from handlers.builtin.workbench_keyword_reply import KeywordReplyProcessor  # noqa: E402
from handlers.builtin.workbench_moment_sync import MomentSyncProcessor  # noqa: E402

BUILTIN_PROCESSORS += (DistributeProcessor, GroupWelcomeProcessor, AutoLikeProcessor, MomentSyncProcessor,
                       AutoGroupProcessor, AutoGroupSetupProcessor, GroupPushProcessor, GroupPushRetryProcessor,
                       KeywordReplyProcessor, CheckInProcessor)

# 场景获客 (issue 5): the stages of a scene's lead pipeline.
from handlers.builtin.lead_assign import AssignLeadProcessor  # noqa: E402
from handlers.builtin.lead_identify import IdentifyLeadProcessor  # noqa: E402
from handlers.builtin.lead_respond import RespondLeadProcessor  # noqa: E402
from handlers.builtin.lead_tag import TagLeadProcessor  # noqa: E402

BUILTIN_PROCESSORS += (IdentifyLeadProcessor, TagLeadProcessor, AssignLeadProcessor, RespondLeadProcessor)
from handlers.builtin.lead_order import OrderFromLeadProcessor; BUILTIN_PROCESSORS += (OrderFromLeadProcessor,)  # noqa: E402,E702

# 商品与订单 (issue 11): 推荐商品 sends 智能推荐's top products through the device / SMS senders.
from handlers.builtin.commerce_recommend import RecommendProductsProcessor  # noqa: E402

BUILTIN_PROCESSORS += (RecommendProductsProcessor,)

# 企业微信 (issue 12): the welcome message answering 添加企业微信客户, corp tags on the contact.
from handlers.builtin.wecom_mark_tag import WecomMarkTagProcessor  # noqa: E402
from handlers.builtin.wecom_welcome import WecomWelcomeProcessor  # noqa: E402

BUILTIN_PROCESSORS += (WecomWelcomeProcessor, WecomMarkTagProcessor)
from handlers.builtin.kb_reply import KbReplyProcessor; BUILTIN_PROCESSORS += (KbReplyProcessor,)  # noqa: E402,E702 - 智能回复 (issue 13)
# 权益 (issue 13): rewards any strategy (and a fission campaign's stages) can give.
from handlers.builtin.rewards_box import DrawBoxProcessor  # noqa: E402
from handlers.builtin.rewards_coupon import IssueCouponProcessor  # noqa: E402
from handlers.builtin.rewards_points import GrantPointsProcessor  # noqa: E402

BUILTIN_PROCESSORS += (GrantPointsProcessor, IssueCouponProcessor, DrawBoxProcessor)
