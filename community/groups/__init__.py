"""社群列表 and 群发助手: the group list with activity, group tags, and broadcasts to many groups."""
