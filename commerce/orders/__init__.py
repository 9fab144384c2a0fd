"""订单 (成交): orders, their lines, status transitions and refunds."""
