"""处理器: what a strategy step does — call an HTTP endpoint, send an e-mail or SMS, notify a
colleague, write a log line, and (in later issues) tag customers or drive phones.

For a marketer: built-in processors are ready to use; your own HTTP processors are registered
in 处理器注册中心 with ${变量} placeholders filled from the event's data.
"""
