"""引擎: the runtime that turns stored events into processor runs.

For a marketer: every accepted event is matched against all enabled strategies in the order
you set; immediate steps run at once, delayed ones wait in 策略任务 until their time; a step
that keeps failing lands in 死信 where it can be replayed. Nothing acknowledged is lost.
"""
