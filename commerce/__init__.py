"""商品与订单: what the team sells and what customers bought.

- catalog/: 类目 (a tree), 品牌, 商品 (SPU) with attributes and spec dimensions (颜色 × 尺码) that
  generate 规格 (SKU), each with its own code, price in 分 and stock; on/off shelf; a product's
  目标客户群 (the audience it is meant for);
- stock/: the stock ledger (入库/出库/预占/释放/调整, who and why) and reservations that hold units
  for an unpaid order until it is paid, cancelled or the hold expires; stock never goes negative;
- orders/: 订单 (成交) from every source (代客下单, API, 付款码, 订单同步, 导入) with lines, the staff
  member credited, the status flow 待支付 → 已支付 → 已发货 → 已完成 / 已取消 and refunds;
- recommend/: 智能推荐, ranked products for a customer, each with its reason.

Money is always an integer number of 分 (fen); a float price is refused at the door.
"""
