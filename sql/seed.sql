-- Surge seed data: deterministic generator, pure SQL, MariaDB 10.11+.

-- Run after schema.sql on an EMPTY database.  Inputs (session variables the
-- caller sets first; NULL means default):
--   @scale  DOUBLE  1.0 = the data set of the original load test (102,005
--                   users, 50,114 shops, 1,010,000 flash-sale stock)
--   @seed   INT     42; same seed => identical rows, other seed => other rows

-- Every row is produced server-side by one INSERT ... SELECT over the
-- Sequence engine's virtual tables (seq_1_to_N; WHERE seq <= @n becomes a
-- range scan, so N only needs to be large enough).

-- "Random" values: h(tag) below stands for
--   CRC32(MD5(CONCAT_WS(':', @seed, tag, row_number)))
-- MD5 does the mixing; CRC32 just folds it to an unsigned 32-bit integer.
-- Plain CRC32 of the key is not used because CRC is affine over GF(2): its
-- low bits follow visible patterns in the row number, and two fields of one
-- row would differ only by a constant XOR.  Where a row needs two small
-- values, one hash is split with MOD and DIV.

-- Every timestamp is fixed (derived from constant epochs) except the flash
-- sale window, which must open at load time: begin_time and end_time in
-- tb_seckill_voucher are the only values that use NOW().

-- Statement rules (a C++ runner splits this file): each statement ends with
-- ';' at the end of a line, comment lines start with '-- ', and a
-- '-- step: <label>' line precedes each major statement.

-- step: parameters
SET NAMES utf8mb4;
SET @scale := CAST(COALESCE(@scale, 1) AS DOUBLE);
SET @seed := CAST(COALESCE(@seed, 42) AS SIGNED);
-- Fixed timestamps are written as FROM_UNIXTIME(epoch).  Under UTC that
-- maps back to exactly the same TIMESTAMP; under a zone with daylight saving
-- an epoch in the repeated autumn hour could be stored one hour off, so the
-- result would depend on the caller's zone.  The zone is restored at the end.
SET @surge_saved_tz := @@session.time_zone;
SET time_zone = '+00:00';
-- Each INSERT computes its hashes once in a derived table and uses them
-- several times.  By default the optimizer merges that derived table into
-- the outer SELECT, which re-evaluates MD5 at every use (measured: about
-- twice as slow).  Materialising it keeps one evaluation per row.  Restored
-- at the end.
SET @surge_saved_switch := @@session.optimizer_switch;
SET SESSION optimizer_switch = 'derived_merge=off';
SET @n_users := CAST(GREATEST(1, ROUND(102005 * @scale)) AS UNSIGNED);
SET @n_shops := CAST(GREATEST(10, ROUND(50114 * @scale)) AS UNSIGNED);
-- Users sign up and shops open over two years, in id order, so create_time
-- grows with id as it would with AUTO_INCREMENT.  The span is fixed and the
-- gap per row shrinks as the scale grows.
SET @t_users := 1640995200;
SET @t_shops := 1609459200;
SET @two_years := 63072000;
SET @user_gap := GREATEST(1, FLOOR(@two_years / @n_users));
SET @shop_gap := GREATEST(1, FLOOR(@two_years / @n_shops));

-- step: word lists
-- The original phone regex is
--   ^1([38][0-9]|4[579]|5[0-3,5-9]|6[6]|7[0135678]|9[89])\d{8}$
-- These are all 42 three-digit prefixes it accepts (3 characters each).
SET @phone_prefixes := CONCAT(
  '130131132133134135136137138139',
  '145147149',
  '150151152153155156157158159',
  '166',
  '170171173175176177178',
  '180181182183184185186187188189',
  '198199');
SET @phone_prefix_n := CHAR_LENGTH(@phone_prefixes) DIV 3;
-- The last 8 digits are (row * mul + add) mod 10^8.  mul ends in 7, so it
-- is coprime to 10 and the map is a bijection on 0..10^8-1: phones are
-- unique whatever prefix a row draws, as long as there are < 10^8 users.
SET @phone_mul := 10 * (CRC32(MD5(CONCAT_WS(':', @seed, 'phone.mul'))) MOD 10000000) + 7;
SET @phone_add := CRC32(MD5(CONCAT_WS(':', @seed, 'phone.add'))) MOD 100000000;
-- Lists are '|'-separated because one opening-hours value contains a comma.
-- An item is picked with SUBSTRING_INDEX(SUBSTRING_INDEX(list, '|', k), '|', -1).
SET @cities := '上海|北京|宁波|温州|绍兴|嘉兴|湖州|金华|苏州|南京|深圳|广州|成都|武汉';
SET @city_n := 1 + CHAR_LENGTH(@cities) - CHAR_LENGTH(REPLACE(@cities, '|', ''));
SET @intros := '爱吃爱玩，周末一定在探店的路上|专注杭州本地美食|健身党，偶尔放纵|带娃出门找好玩的地方|夜猫子，只推荐开到深夜的店|记录每一次好吃的瞬间|咖啡续命的打工人|只说真话的点评小能手';
SET @intro_n := 1 + CHAR_LENGTH(@intros) - CHAR_LENGTH(REPLACE(@intros, '|', ''));
SET @brands := '阿福|老杭州|小巷|外婆|西子|钱塘|运河|湖畔|一品|金牌|星光|悦享|花间|半山|南山|拾光|知味|慢时光|乐活|好运来|大鱼|小筑|云上|青石';
SET @brand_n := 1 + CHAR_LENGTH(@brands) - CHAR_LENGTH(REPLACE(@brands, '|', ''));
SET @areas := '大关|上塘|运河上街|北部新城|远洋乐堤港|水晶城|武林广场|湖滨|西湖文化广场|黄龙|文三路|城西银泰|西溪|钱江新城|滨江|下沙|萧山|临平|庆春路|南宋御街|翠苑|古荡|九堡|四季青|申花|三墩';
SET @area_n := 1 + CHAR_LENGTH(@areas) - CHAR_LENGTH(REPLACE(@areas, '|', ''));
SET @roads := '延安路|文三路|体育场路|莫干山路|上塘路|湖墅南路|天目山路|解放路|凤起路|庆春路|江南大道|金华路|丽水路|杭行路|台州路|教工路|古墩路|学院路|中山北路|环城北路|秋涛路|江陵路|西溪路|文一西路';
SET @road_n := 1 + CHAR_LENGTH(@roads) - CHAR_LENGTH(REPLACE(@roads, '|', ''));
SET @open_hours := '10:00-22:00|09:00-21:00|11:00-23:00|00:00-24:00|10:30-21:30|11:00-14:00,17:00-22:00|18:00-02:00|09:30-22:30';
SET @open_hours_n := 1 + CHAR_LENGTH(@open_hours) - CHAR_LENGTH(REPLACE(@open_hours, '|', ''));
SET @voucher_subtitles := '周一至周日均可使用|周一至周五可用|工作日可用|节假日通用|晚市可用';
SET @voucher_subtitle_n := 1 + CHAR_LENGTH(@voucher_subtitles) - CHAR_LENGTH(REPLACE(@voucher_subtitles, '|', ''));
SET @blog_titles := '周末打卡｜|人均不贵，强烈推荐｜|本地人才知道的宝藏店｜|二刷了还想再去｜|朋友聚会就选这家｜';
SET @blog_title_n := 1 + CHAR_LENGTH(@blog_titles) - CHAR_LENGTH(REPLACE(@blog_titles, '|', ''));
SET @blog_bodies := '环境很好，服务也很热情，下次还会再来。|排队半小时，但是值得！推荐招牌菜。|价格实惠，分量很足，适合和朋友一起。|位置有点难找，不过体验真的不错。|老板人很好，细节做得很用心，五星好评。';
SET @blog_body_n := 1 + CHAR_LENGTH(@blog_bodies) - CHAR_LENGTH(REPLACE(@blog_bodies, '|', ''));

-- step: shop types
-- Not scaled.  Names and icon paths are the original ten (the icons exist in
-- the original front-end).  NOTE: the original dump had sort 10 for 健身运动
-- and sort 4 for 美睫·美甲; here sort simply follows id (as requested).
INSERT INTO tb_shop_type (id, name, icon, sort, create_time, update_time) VALUES
  (1, '美食', '/types/ms.png', 1, FROM_UNIXTIME(1640175467), FROM_UNIXTIME(1640229871)),
  (2, 'KTV', '/types/KTV.png', 2, FROM_UNIXTIME(1640175507), FROM_UNIXTIME(1640229871)),
  (3, '丽人·美发', '/types/lrmf.png', 3, FROM_UNIXTIME(1640175528), FROM_UNIXTIME(1640229871)),
  (4, '健身运动', '/types/jsyd.png', 4, FROM_UNIXTIME(1640175544), FROM_UNIXTIME(1640229871)),
  (5, '按摩·足疗', '/types/amzl.png', 5, FROM_UNIXTIME(1640175567), FROM_UNIXTIME(1640229871)),
  (6, '美容SPA', '/types/spa.png', 6, FROM_UNIXTIME(1640175575), FROM_UNIXTIME(1640229871)),
  (7, '亲子游乐', '/types/qzyl.png', 7, FROM_UNIXTIME(1640175593), FROM_UNIXTIME(1640229871)),
  (8, '酒吧', '/types/jiuba.png', 8, FROM_UNIXTIME(1640175602), FROM_UNIXTIME(1640229871)),
  (9, '轰趴馆', '/types/hpg.png', 9, FROM_UNIXTIME(1640175608), FROM_UNIXTIME(1640229871)),
  (10, '美睫·美甲', '/types/mjmj.png', 10, FROM_UNIXTIME(1640175706), FROM_UNIXTIME(1640229871));

-- step: users
-- nick_name imitates what login creates for a new phone: 'user_' + 10 of
-- [a-z0-9].  The 16 hex digits give 64 bits; their base-36 form's last 10
-- digits are close to uniform.  One user in five has an avatar path.
INSERT INTO tb_user (id, phone, password, nick_name, icon, create_time, update_time)
SELECT u.id,
       CONCAT(SUBSTRING(@phone_prefixes, 1 + 3 * (u.h_phone MOD @phone_prefix_n), 3),
              LPAD((u.id * @phone_mul + @phone_add) MOD 100000000, 8, '0')),
       '',
       CONCAT('user_', LPAD(RIGHT(LOWER(CONV(LEFT(u.md5_nick, 16), 16, 36)), 10), 10, '0')),
       IF(u.h_icon MOD 5 = 0, CONCAT('/imgs/icons/avatar-', LPAD(1 + (u.h_icon DIV 5) MOD 20, 2, '0'), '.png'), ''),
       FROM_UNIXTIME(@t_users + (u.id - 1) * @user_gap + u.h_time MOD @user_gap),
       FROM_UNIXTIME(@t_users + (u.id - 1) * @user_gap + u.h_time MOD @user_gap)
FROM (
  SELECT seq AS id,
         CRC32(MD5(CONCAT_WS(':', @seed, 'user.phone', seq))) AS h_phone,
         MD5(CONCAT_WS(':', @seed, 'user.nick', seq)) AS md5_nick,
         CRC32(MD5(CONCAT_WS(':', @seed, 'user.icon', seq))) AS h_icon,
         CRC32(MD5(CONCAT_WS(':', @seed, 'user.time', seq))) AS h_time
  FROM seq_1_to_100000000
  WHERE seq <= @n_users
) AS u;

-- step: follows
-- 30 distinct (follower, followed) pairs among the first 20 users (fewer
-- users at tiny scales => fewer pairs): shuffle all ordered pairs by hash and
-- keep the first 30.  Ids are numbered in that shuffled order explicitly so
-- they do not depend on insertion order.
INSERT INTO tb_follow (id, user_id, follow_user_id, create_time)
SELECT ROW_NUMBER() OVER (ORDER BY p.h, p.a, p.b),
       p.a,
       p.b,
       FROM_UNIXTIME(1672531200 + 3600 * ROW_NUMBER() OVER (ORDER BY p.h, p.a, p.b))
FROM (
  SELECT a.seq AS a, b.seq AS b,
         CRC32(MD5(CONCAT_WS(':', @seed, 'follow', a.seq, b.seq))) AS h
  FROM seq_1_to_20 AS a
  JOIN seq_1_to_20 AS b ON b.seq <> a.seq
  WHERE a.seq <= @n_users AND b.seq <= @n_users
  ORDER BY h, a, b
  LIMIT 30
) AS p;

-- step: user info
-- Every user except multiples of 10 gets a profile, so both "profile" and
-- "no profile" (GET /user/info/{id} -> no data) exist among small ids.
-- fans/followee agree with tb_follow, which is why follows are loaded first.
-- A fifth leave the birthday empty, the others were born 1970..2004.  Most
-- users have a low membership level or none (level 0 = not a member).
INSERT INTO tb_user_info (user_id, city, introduce, fans, followee, gender, birthday, credits, level, create_time, update_time)
SELECT i.id,
       IF(i.h_city MOD 10 < 6, '杭州',
          SUBSTRING_INDEX(SUBSTRING_INDEX(@cities, '|', 1 + (i.h_city DIV 10) MOD @city_n), '|', -1)),
       IF(i.h_intro MOD 3 = 0, NULL,
          SUBSTRING_INDEX(SUBSTRING_INDEX(@intros, '|', 1 + (i.h_intro DIV 3) MOD @intro_n), '|', -1)),
       COALESCE(i.fans, 0),
       COALESCE(i.followee, 0),
       i.h_person MOD 2,
       IF((i.h_person DIV 2) MOD 5 = 0, NULL,
          DATE_ADD('1970-01-01', INTERVAL (i.h_person DIV 10) MOD 12784 DAY)),
       i.h_level MOD 5000,
       ELT(1 + (i.h_level DIV 5000) MOD 20, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 6, 7, 9),
       i.create_time,
       i.create_time
FROM (
  SELECT u.id, u.create_time, fans.n AS fans, followee.n AS followee,
         CRC32(MD5(CONCAT_WS(':', @seed, 'info.city', u.id))) AS h_city,
         CRC32(MD5(CONCAT_WS(':', @seed, 'info.intro', u.id))) AS h_intro,
         CRC32(MD5(CONCAT_WS(':', @seed, 'info.person', u.id))) AS h_person,
         CRC32(MD5(CONCAT_WS(':', @seed, 'info.level', u.id))) AS h_level
  FROM tb_user AS u
  LEFT JOIN (SELECT follow_user_id AS id, COUNT(*) AS n FROM tb_follow GROUP BY follow_user_id) AS fans
         ON fans.id = u.id
  LEFT JOIN (SELECT user_id AS id, COUNT(*) AS n FROM tb_follow GROUP BY user_id) AS followee
         ON followee.id = u.id
  WHERE u.id MOD 10 <> 0
) AS i;

-- step: shops
-- Shops 1..10 have type 1..10 so every type is populated at any scale; the
-- rest are weighted towards food (6/20), like the real app.  Coordinates are
-- uniform over x 120.00-120.40, y 30.10-30.45 (Hangzhou) with 6 decimals as
-- in the original; "* 0.000001" rather than "/ 1000000" because MariaDB keeps
-- only 4 extra decimals after a division.  The score is the sum of two
-- uniform draws, so ratings cluster around 3.0 instead of being flat.
INSERT INTO tb_shop (id, name, type_id, images, area, address, x, y, avg_price, sold, comments, score, open_hours, create_time, update_time)
SELECT s.id,
       CONCAT(SUBSTRING_INDEX(SUBSTRING_INDEX(@brands, '|', 1 + s.h_name MOD @brand_n), '|', -1),
              SUBSTRING_INDEX(SUBSTRING_INDEX(
                ELT(s.type_id,
                    '茶餐厅|火锅|烤肉|面馆|杭帮菜|寿司',
                    'KTV|量贩KTV|音乐会所|欢唱KTV|派对KTV|迷你KTV',
                    '美发沙龙|造型|发艺|烫染馆|形象设计|理发店',
                    '健身房|瑜伽馆|游泳馆|拳击馆|羽毛球馆|攀岩馆',
                    '足道|按摩|养生馆|推拿|足浴|采耳馆',
                    '美容院|SPA|皮肤管理|养颜馆|美容会所|芳疗馆',
                    '亲子乐园|儿童乐园|淘气堡|科学馆|手工坊|亲子餐厅',
                    '酒吧|清吧|精酿酒馆|Livehouse|威士忌吧|小酒馆',
                    '轰趴馆|别墅轰趴|派对馆|桌游吧|密室|团建基地',
                    '美甲|美睫|美甲美睫|指尖艺术|美甲工作室|睫毛工作室'),
                '|', 1 + (s.h_name DIV 100) MOD 6), '|', -1),
              '(', s.area, 1 + (s.h_name DIV 1000) MOD 20, '店)'),
       s.type_id,
       CONCAT_WS(',',
                 CONCAT('https://img.example.com/shop/', SUBSTRING(s.md5_img, 1, 10), '.jpg'),
                 IF(s.h_misc MOD 3 >= 1, CONCAT('https://img.example.com/shop/', SUBSTRING(s.md5_img, 11, 10), '.jpg'), NULL),
                 IF(s.h_misc MOD 3 >= 2, CONCAT('https://img.example.com/shop/', SUBSTRING(s.md5_img, 21, 10), '.jpg'), NULL)),
       s.area,
       CONCAT(SUBSTRING_INDEX(SUBSTRING_INDEX(@roads, '|', 1 + s.h_addr MOD @road_n), '|', -1),
              1 + (s.h_addr DIV 100) MOD 999, '号'),
       120 + (s.h_x MOD 400001) * 0.000001,
       30.1 + (s.h_y MOD 350001) * 0.000001,
       20 + (s.h_misc DIV 3) MOD 481,
       s.h_sales MOD 30000,
       (s.h_sales MOD 30000) * (5 + (s.h_sales DIV 30000) MOD 70) DIV 100,
       10 + s.h_score MOD 21 + (s.h_score DIV 21) MOD 21,
       SUBSTRING_INDEX(SUBSTRING_INDEX(@open_hours, '|', 1 + (s.h_score DIV 1000) MOD @open_hours_n), '|', -1),
       FROM_UNIXTIME(@t_shops + (s.id - 1) * @shop_gap + s.h_addr MOD @shop_gap),
       FROM_UNIXTIME(@t_shops + (s.id - 1) * @shop_gap + s.h_addr MOD @shop_gap + (s.h_sales DIV 100) MOD 7776000)
FROM (
  SELECT seq AS id,
         IF(seq <= 10, seq,
            ELT(1 + CRC32(MD5(CONCAT_WS(':', @seed, 'shop.type', seq))) MOD 20,
                1, 1, 1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 7, 8, 8, 9, 10)) AS type_id,
         SUBSTRING_INDEX(SUBSTRING_INDEX(@areas, '|',
           1 + CRC32(MD5(CONCAT_WS(':', @seed, 'shop.area', seq))) MOD @area_n), '|', -1) AS area,
         CRC32(MD5(CONCAT_WS(':', @seed, 'shop.name', seq))) AS h_name,
         MD5(CONCAT_WS(':', @seed, 'shop.images', seq)) AS md5_img,
         CRC32(MD5(CONCAT_WS(':', @seed, 'shop.misc', seq))) AS h_misc,
         CRC32(MD5(CONCAT_WS(':', @seed, 'shop.addr', seq))) AS h_addr,
         CRC32(MD5(CONCAT_WS(':', @seed, 'shop.x', seq))) AS h_x,
         CRC32(MD5(CONCAT_WS(':', @seed, 'shop.y', seq))) AS h_y,
         CRC32(MD5(CONCAT_WS(':', @seed, 'shop.sales', seq))) AS h_sales,
         CRC32(MD5(CONCAT_WS(':', @seed, 'shop.score', seq))) AS h_score
  FROM seq_1_to_100000000
  WHERE seq <= @n_shops
) AS s;

-- step: vouchers
-- Voucher 1 is the original's only voucher, verbatim except that the rules
-- use real line feeds (the dump stored backslash escapes, one of them
-- mangled).  CHAR(10 USING utf8mb4) keeps string literals free of backslashes, so the
-- result does not depend on the caller's sql_mode (NO_BACKSLASH_ESCAPES).
INSERT INTO tb_voucher (id, shop_id, title, sub_title, rules, pay_value, actual_value, type, status, create_time, update_time)
VALUES (1, 1, '50元代金券', '周一至周日均可使用',
        CONCAT_WS(CHAR(10 USING utf8mb4), '全场通用', '无需预约', '可无限叠加', '不兑现、不找零', '仅限堂食'),
        4750, 5000, 0, 1, FROM_UNIXTIME(1641260559), FROM_UNIXTIME(1641260611));

-- step: flash-sale vouchers
-- Always 110 (ids 2..111), two per shop over shops 1..55 (fewer shops at
-- tiny scales => more per shop).  Face value 10-300 yuan, sold at 50-90 %.
INSERT INTO tb_voucher (id, shop_id, title, sub_title, rules, pay_value, actual_value, type, status, create_time, update_time)
SELECT v.id,
       1 + (v.id - 2) MOD LEAST(@n_shops, 55),
       CONCAT(v.actual_value DIV 100, '元代金券'),
       SUBSTRING_INDEX(SUBSTRING_INDEX(@voucher_subtitles, '|', 1 + (v.h DIV 100) MOD @voucher_subtitle_n), '|', -1),
       CONCAT_WS(CHAR(10 USING utf8mb4), '全场通用', '无需预约', '每人限抢一张', '不兑现、不找零'),
       v.actual_value * (50 + 5 * ((v.h DIV 6) MOD 9)) DIV 100,
       v.actual_value,
       1,
       1,
       FROM_UNIXTIME(1672531200 + 600 * v.id),
       FROM_UNIXTIME(1672531200 + 600 * v.id)
FROM (
  SELECT seq + 1 AS id,
         CRC32(MD5(CONCAT_WS(':', @seed, 'voucher', seq))) AS h,
         ELT(1 + CRC32(MD5(CONCAT_WS(':', @seed, 'voucher', seq))) MOD 6, 1000, 2000, 5000, 10000, 20000, 30000) AS actual_value
  FROM seq_1_to_110
) AS v;

-- step: flash-sale stock
-- At scale 1: vouchers 2..11 hold 1,000 each (the scarce ones, for sell-out
-- tests) and 12..111 hold 10,000 each, 1,010,000 in total.  The sale window
-- opens a minute before the load so orders are accepted immediately.
INSERT INTO tb_seckill_voucher (voucher_id, stock, create_time, begin_time, end_time, update_time)
SELECT seq + 1,
       GREATEST(1, ROUND(IF(seq <= 10, 1000, 10000) * @scale)),
       FROM_UNIXTIME(1672531200 + 600 * (seq + 1)),
       NOW() - INTERVAL 1 MINUTE,
       NOW() + INTERVAL 30 DAY,
       FROM_UNIXTIME(1672531200 + 600 * (seq + 1))
FROM seq_1_to_110;

-- step: blogs
-- 20 notes by users 1..20 about shops 1..14; no likes or comments yet (the
-- like counter must stay consistent with Redis, which starts empty).
INSERT INTO tb_blog (id, shop_id, user_id, title, images, content, liked, comments, create_time, update_time)
SELECT b.id,
       s.id,
       b.user_id,
       CONCAT(SUBSTRING_INDEX(SUBSTRING_INDEX(@blog_titles, '|', 1 + (b.h DIV 100) MOD @blog_title_n), '|', -1), s.name),
       CONCAT_WS(',',
                 CONCAT('/imgs/blogs/', CONV(SUBSTRING(b.md5_img, 1, 1), 16, 10), '/', CONV(SUBSTRING(b.md5_img, 2, 1), 16, 10), '/', SUBSTRING(b.md5_img, 3, 10), '.jpg'),
                 IF(b.h MOD 3 >= 1, CONCAT('/imgs/blogs/', CONV(SUBSTRING(b.md5_img, 13, 1), 16, 10), '/', CONV(SUBSTRING(b.md5_img, 14, 1), 16, 10), '/', SUBSTRING(b.md5_img, 15, 10), '.jpg'), NULL)),
       SUBSTRING_INDEX(SUBSTRING_INDEX(@blog_bodies, '|', 1 + (b.h DIV 1000) MOD @blog_body_n), '|', -1),
       0,
       0,
       FROM_UNIXTIME(1672531200 + 86400 * b.id + (b.h DIV 10000) MOD 86400),
       FROM_UNIXTIME(1672531200 + 86400 * b.id + (b.h DIV 10000) MOD 86400)
FROM (
  SELECT seq AS id,
         1 + CRC32(MD5(CONCAT_WS(':', @seed, 'blog.user', seq))) MOD LEAST(@n_users, 20) AS user_id,
         1 + CRC32(MD5(CONCAT_WS(':', @seed, 'blog.shop', seq))) MOD LEAST(@n_shops, 14) AS shop_id,
         CRC32(MD5(CONCAT_WS(':', @seed, 'blog.text', seq))) AS h,
         MD5(CONCAT_WS(':', @seed, 'blog.images', seq)) AS md5_img
  FROM seq_1_to_20
) AS b
JOIN tb_shop AS s ON s.id = b.shop_id;

-- step: done
SET time_zone = @surge_saved_tz;
SET SESSION optimizer_switch = @surge_saved_switch;
