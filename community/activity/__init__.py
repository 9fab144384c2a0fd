"""群活: per group and Beijing day — members, joins, quits, speakers, messages, lurker rate — rolled up
from the message store and the member list, and the 群活监控 rules that raise alerts on them."""
