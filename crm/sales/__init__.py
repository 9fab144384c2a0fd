"""销售工作: tasks and follow-ups, message templates, and 定向营销 (targeted marketing plans)."""
