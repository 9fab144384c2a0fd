"""KOC (关键意见消费者): customers or staff marked KOC, the groups they lead, the tasks they are given
(发起话题 / 组织活动 / 发起打卡, checked against the group's messages where possible), the check-ins
they start from their H5 page, and their earnings board."""
