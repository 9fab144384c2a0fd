"""场景获客: where leads come in (forms, Douyin, calls, orders, payment codes, posters, files, API),
how each is cleaned, matched to a customer, tagged, assigned and answered, and how every scene,
channel and plan performs. A lead arriving is an event (lead.<scene key>); the pipeline steps
are ordinary strategy steps, so operators add their own (a device welcome, an HTTP call) freely.
"""
