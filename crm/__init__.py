"""客户中心: the people the rules act on — customers, tags, groups — and the staff who use the
console (users, roles, in-site notifications).
"""
