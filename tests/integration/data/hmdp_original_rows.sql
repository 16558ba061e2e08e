-- A few rows for hmdp_original_schema.sql, including the duplicate (user, voucher) order and
-- the duplicate follow that the original's code can produce. The migration test deletes the
-- duplicates after `surge migrate --dry-run` has reported them.

SET NAMES utf8mb4;

-- step: rows
INSERT INTO tb_shop_type (id, name, icon, sort) VALUES
  (1, '美食', '/types/ms.png', 1),
  (2, 'KTV', '/types/KTV.png', 2),
  (3, '丽人·美发', '/types/lrmf.png', 3);

INSERT INTO tb_shop (id, name, type_id, images, area, address, x, y, avg_price, sold, comments,
                     score, open_hours) VALUES
  (1, '湖畔小馆', 1, 'https://example.invalid/shop/1.jpg', '大关', '金华路锦昌文华苑29号',
   120.149192, 30.316078, 80, 4215, 3035, 37, '10:00-22:00'),
  (2, '运河茶社', 1, 'https://example.invalid/shop/2.jpg', '拱宸桥/上塘', '上塘路1035号',
   120.151505, 30.333422, 85, 2160, 1460, 46, '11:30-03:00'),
  (3, '星光KTV', 2, 'https://example.invalid/shop/3.jpg', '北部新城', '大关路100号',
   120.146000, 30.330000, 120, 88, 7, 41, '12:00-02:00');

INSERT INTO tb_user (id, phone, nick_name, icon) VALUES
  (1, '13686869696', '小鱼同学', '/imgs/icons/user1.jpg'),
  (2, '13838411438', '可可今天不吃肉', '/imgs/icons/user2.jpg'),
  (4, '13456789011', 'user_slxaxy2au9f3tanffaxr', ''),
  (5, '13456789001', '可爱多', '/imgs/icons/user5.jpg');

INSERT INTO tb_user_info (user_id, city, introduce, fans, followee, gender, credits, level) VALUES
  (1, '杭州', '吃货一枚', 0, 1, 0, 0, 0),
  (2, '杭州', NULL, 1, 0, 1, 0, 0);

INSERT INTO tb_voucher (id, shop_id, title, sub_title, rules, pay_value, actual_value, type,
                        status) VALUES
  (1, 1, '50元代金券', '周一至周日均可使用', '全场通用', 4750, 5000, 0, 1),
  (2, 1, '100元代金券', '限时抢购', '每人限购一张', 8000, 10000, 1, 1);

INSERT INTO tb_seckill_voucher (voucher_id, stock, begin_time, end_time) VALUES
  (2, 98, '2020-01-01 00:00:00', '2037-12-31 00:00:00');

-- User 2 holds voucher 2 twice: the duplicate the unique key must refuse.
INSERT INTO tb_voucher_order (id, user_id, voucher_id, status) VALUES
  (270001, 1, 2, 2),
  (270002, 2, 2, 2),
  (270003, 2, 2, 1);

INSERT INTO tb_blog (id, shop_id, user_id, title, images, content, liked, comments) VALUES
  (4, 1, 2, '无尽浪漫的夜晚', '/imgs/blogs/4.jpg', '生活就是一半烟火、一半诗意', 3, 104),
  (5, 2, 1, '人均30的宝藏茶社', '/imgs/blogs/5.jpg', '强烈推荐', 1, 0);

-- User 1 follows user 2 twice (a repeated click in the original).
INSERT INTO tb_follow (id, user_id, follow_user_id) VALUES
  (1, 1, 2),
  (2, 1, 2),
  (3, 5, 2);
