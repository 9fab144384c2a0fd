"""客户分组与分配: customer groups with managers and salespeople, grouping rules, allocation
rules, request settings, recycle rules, transfers, the public pool, the recycle bin and logs."""
