"""快捷回复库 (话术库): categories, replies with ${变量} rendered from the customer in the sandbox,
attachments from 素材/内容库, visibility by department and send counts."""
