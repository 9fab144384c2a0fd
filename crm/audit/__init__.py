"""审计日志: who signed in (登录日志), who changed what (操作日志, every console and API write with
the changed columns before and after, masked) and what broke (异常日志, with the reference id the
user was shown). Records are kept for a configurable number of days and purged by a cron job.

The recorder hooks SQLAlchemy's session events, so no view has to remember to log; the web layer
only says which request is running and who is acting (crm.audit.recorder.activate).
"""
