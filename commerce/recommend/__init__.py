"""智能推荐: which products to offer a customer next, and why.

Three signals (one module each, registered by a stable key in `registry`) each score candidate
products for one customer; `ranker.recommend` combines them with documented weights, drops what
cannot or should not be sold to this customer (off shelf, deleted, out of stock, a one-time
product already bought) and says for every product why it is there (命中标签「…」 / 常一起购买「…」 /
同类客户热销). The heavy counting (co-purchase pairs, popularity per customer segment, the
product ⇄ tag index) is done by `refresh.rebuild` into small tables, so ranking one customer is
a handful of indexed reads.
"""
