"""商品目录: categories, brands, SPUs and their SKUs."""
