"""事件: what happened, in a form strategies can match.

For a marketer: an event (修改密码, 客户交易, a friend request on a phone…) is registered here
with typed fields; apps post events with a signed request; every event received — accepted or
refused, with the reason — is kept in the event history.
"""
