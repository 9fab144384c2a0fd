"""策略: what to do when an event happens.

For a marketer: a strategy picks an event, the conditions it must meet (rows with brackets,
并且/或者) and the processors to run — now, after N hours, or at a set time. Every save is a
version you can compare and roll back; bundles move strategies between systems.
"""
