"""后台任务: imports, exports and "run now" jobs with progress, never inside a web request."""
