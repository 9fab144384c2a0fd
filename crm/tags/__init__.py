"""标签: tag categories, auto/manual/personal tags with validity and scores, rules and history."""
