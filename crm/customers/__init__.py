"""客户档案: customers (built-in and custom fields), companies, enums, saved queries, detail tabs."""
