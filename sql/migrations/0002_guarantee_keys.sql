-- The keys Surge's guarantees rest on, and one secondary index per lookup the API performs.
-- The original has none of them. Each statement adds one key (`surge migrate` recognises this
-- form: it skips a key that already exists under any name with the same columns, and before a
-- UNIQUE key it looks for rows that would violate it and stops with a report instead of
-- failing half-way). The "-- resolve:" lines are printed with such a report.

-- step: tb_voucher_order unique (user_id, voucher_id)
-- One order per user and voucher: the original only checks this in code, so a replayed stream
-- message (or, in the original, two concurrent requests) could insert a second row.
-- resolve: Each group is one user holding several orders of one voucher; Surge sells one per user.
-- resolve: Keep one order per group (a paid or used one before an unpaid one), refund the others
-- resolve: if they were paid, delete them, and give their stock back, per voucher:
-- resolve:   UPDATE tb_seckill_voucher SET stock = stock + <orders deleted> WHERE voucher_id = <id>;
ALTER TABLE tb_voucher_order ADD UNIQUE KEY IF NOT EXISTS uk_order_user_voucher (user_id, voucher_id);

-- step: tb_voucher_order index (voucher_id)
-- Reconciliation counts orders per voucher against the Redis stock.
ALTER TABLE tb_voucher_order ADD KEY IF NOT EXISTS idx_order_voucher (voucher_id);

-- step: tb_follow unique (user_id, follow_user_id)
-- Follow, unfollow and "do I follow X" look up the pair; unique, so a repeated
-- PUT /follow/{id}/true cannot create a duplicate row.
-- resolve: Duplicate follow rows carry no information (the original inserted one per repeated
-- resolve: "follow" click): deleting all but one row of each pair changes nothing users see.
ALTER TABLE tb_follow ADD UNIQUE KEY IF NOT EXISTS uk_follow_pair (user_id, follow_user_id);

-- step: tb_follow index (follow_user_id)
-- Publishing a blog fans out to every follower of the author.
ALTER TABLE tb_follow ADD KEY IF NOT EXISTS idx_follow_followed (follow_user_id);

-- step: tb_voucher index (shop_id)
-- GET /voucher/list/{shopId} filters by shop.
ALTER TABLE tb_voucher ADD KEY IF NOT EXISTS idx_voucher_shop (shop_id);

-- step: tb_blog index (user_id)
-- GET /blog/of/me and /blog/of/user filter by author.
ALTER TABLE tb_blog ADD KEY IF NOT EXISTS idx_blog_user (user_id);

-- step: tb_blog index (liked)
-- GET /blog/hot is ORDER BY liked DESC LIMIT n: the key is read backwards, no sort.
ALTER TABLE tb_blog ADD KEY IF NOT EXISTS idx_blog_liked (liked);

-- step: tb_shop index (type_id, comments)
-- The sortBy=comments|score variant of GET /shop/of/type reads the top of one type without a
-- filesort. (GET /shop/of/name is LIKE '%name%', which no B-tree index serves.)
ALTER TABLE tb_shop ADD KEY IF NOT EXISTS idx_shop_type_comments (type_id, comments);

-- step: tb_shop index (type_id, score)
ALTER TABLE tb_shop ADD KEY IF NOT EXISTS idx_shop_type_score (type_id, score);
