-- The 11 tables of hm-dianping as the original created them, so that a fresh database and one
-- adopted from the Java system start from the same shape. CREATE TABLE IF NOT EXISTS: on an
-- adopted (or older Surge) database every statement is a no-op.
--
-- Column names and types follow the original's dump so that rows mean the same thing in both
-- systems, except that tb_shop.sold / comments / score are created without ZEROFILL (0003
-- converts adopted tables). Only the original's own keys are here (primary keys,
-- uniqe_key_phone -- typo included -- and foreign_key_type); 0002 adds the keys Surge needs.
-- ROW_FORMAT and AUTO_INCREMENT start values of the dump are left to the server. Column
-- comments are shortened to the facts code needs (units, enums).

SET NAMES utf8mb4;

-- step: tb_user
CREATE TABLE IF NOT EXISTS tb_user (
  id          BIGINT(20) UNSIGNED NOT NULL AUTO_INCREMENT,
  phone       VARCHAR(11)  NOT NULL,
  password    VARCHAR(128) NULL DEFAULT '' COMMENT 'never set by the API',
  nick_name   VARCHAR(32)  NULL DEFAULT '',
  icon        VARCHAR(255) NULL DEFAULT '',
  create_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  update_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  UNIQUE KEY uniqe_key_phone (phone)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_general_ci;

-- step: tb_user_info
CREATE TABLE IF NOT EXISTS tb_user_info (
  user_id     BIGINT(20) UNSIGNED NOT NULL COMMENT '= tb_user.id, not auto-increment',
  city        VARCHAR(64)  NULL DEFAULT '',
  introduce   VARCHAR(128) NULL DEFAULT NULL,
  fans        INT(8) UNSIGNED NULL DEFAULT 0,
  followee    INT(8) UNSIGNED NULL DEFAULT 0,
  gender      TINYINT(1) UNSIGNED NULL DEFAULT 0 COMMENT '0 male, 1 female',
  birthday    DATE NULL DEFAULT NULL,
  credits     INT(8) UNSIGNED NULL DEFAULT 0,
  level       TINYINT(1) UNSIGNED NULL DEFAULT 0 COMMENT '0..9, 0 = no membership',
  create_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  update_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (user_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_general_ci;

-- step: tb_shop
CREATE TABLE IF NOT EXISTS tb_shop (
  id          BIGINT(20) UNSIGNED NOT NULL AUTO_INCREMENT,
  name        VARCHAR(128) NOT NULL,
  type_id     BIGINT(20) UNSIGNED NOT NULL,
  images      VARCHAR(1024) NOT NULL COMMENT 'comma-separated URLs',
  area        VARCHAR(128) NULL DEFAULT NULL COMMENT 'business district',
  address     VARCHAR(255) NOT NULL,
  x           DOUBLE UNSIGNED NOT NULL COMMENT 'longitude',
  y           DOUBLE UNSIGNED NOT NULL COMMENT 'latitude',
  avg_price   BIGINT(10) UNSIGNED NULL DEFAULT NULL COMMENT 'yuan, integer',
  sold        INT(10) UNSIGNED NOT NULL COMMENT 'original: ZEROFILL',
  comments    INT(10) UNSIGNED NOT NULL COMMENT 'original: ZEROFILL',
  score       INT(2) UNSIGNED NOT NULL COMMENT 'rating 1.0-5.0 times 10, original: ZEROFILL',
  open_hours  VARCHAR(32) NULL DEFAULT NULL COMMENT 'e.g. 10:00-22:00',
  create_time TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
  update_time TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  KEY foreign_key_type (type_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_general_ci;

-- step: tb_shop_type
CREATE TABLE IF NOT EXISTS tb_shop_type (
  id          BIGINT(20) UNSIGNED NOT NULL AUTO_INCREMENT,
  name        VARCHAR(32)  NULL DEFAULT NULL,
  icon        VARCHAR(255) NULL DEFAULT NULL,
  sort        INT(3) UNSIGNED NULL DEFAULT NULL COMMENT 'list order, ascending',
  create_time TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
  update_time TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_general_ci;

-- step: tb_voucher
CREATE TABLE IF NOT EXISTS tb_voucher (
  id           BIGINT(20) UNSIGNED NOT NULL AUTO_INCREMENT,
  shop_id      BIGINT(20) UNSIGNED NULL DEFAULT NULL,
  title        VARCHAR(255)  NOT NULL,
  sub_title    VARCHAR(255)  NULL DEFAULT NULL,
  rules        VARCHAR(1024) NULL DEFAULT NULL,
  pay_value    BIGINT(10) UNSIGNED NOT NULL COMMENT 'fen (1/100 yuan)',
  actual_value BIGINT(10) NOT NULL COMMENT 'fen (1/100 yuan)',
  type         TINYINT(1) UNSIGNED NOT NULL DEFAULT 0 COMMENT '0 normal, 1 flash sale',
  status       TINYINT(1) UNSIGNED NOT NULL DEFAULT 1 COMMENT '1 on sale, 2 withdrawn, 3 expired',
  create_time  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  update_time  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_general_ci;

-- step: tb_seckill_voucher
CREATE TABLE IF NOT EXISTS tb_seckill_voucher (
  voucher_id  BIGINT(20) UNSIGNED NOT NULL COMMENT '1:1 with tb_voucher.id',
  stock       INT(8) NOT NULL,
  create_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  begin_time  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  end_time    TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  update_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (voucher_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_general_ci;

-- step: tb_voucher_order
CREATE TABLE IF NOT EXISTS tb_voucher_order (
  id          BIGINT(20) NOT NULL COMMENT 'from the Redis id worker, not auto-increment',
  user_id     BIGINT(20) UNSIGNED NOT NULL,
  voucher_id  BIGINT(20) UNSIGNED NOT NULL,
  pay_type    TINYINT(1) UNSIGNED NOT NULL DEFAULT 1 COMMENT '1 balance, 2 Alipay, 3 WeChat',
  status      TINYINT(1) UNSIGNED NOT NULL DEFAULT 1 COMMENT '1 unpaid, 2 paid, 3 used, 4 cancelled, 5 refunding, 6 refunded',
  create_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  pay_time    TIMESTAMP NULL DEFAULT NULL,
  use_time    TIMESTAMP NULL DEFAULT NULL,
  refund_time TIMESTAMP NULL DEFAULT NULL,
  update_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_general_ci;

-- step: tb_blog
CREATE TABLE IF NOT EXISTS tb_blog (
  id          BIGINT(20) UNSIGNED NOT NULL AUTO_INCREMENT,
  shop_id     BIGINT(20) NOT NULL,
  user_id     BIGINT(20) UNSIGNED NOT NULL,
  title       VARCHAR(255)  CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
  images      VARCHAR(2048) NOT NULL COMMENT 'at most 9, comma-separated',
  content     VARCHAR(2048) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
  liked       INT(8) UNSIGNED NULL DEFAULT 0,
  comments    INT(8) UNSIGNED NULL DEFAULT NULL,
  create_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  update_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_general_ci;

-- step: tb_blog_comments
CREATE TABLE IF NOT EXISTS tb_blog_comments (
  id          BIGINT(20) UNSIGNED NOT NULL AUTO_INCREMENT,
  user_id     BIGINT(20) UNSIGNED NOT NULL,
  blog_id     BIGINT(20) UNSIGNED NOT NULL,
  parent_id   BIGINT(20) UNSIGNED NOT NULL COMMENT 'top-level comment id, 0 if this is one',
  answer_id   BIGINT(20) UNSIGNED NOT NULL COMMENT 'comment replied to',
  content     VARCHAR(255) NOT NULL,
  liked       INT(8) UNSIGNED NULL DEFAULT NULL,
  status      TINYINT(1) UNSIGNED NULL DEFAULT NULL COMMENT '0 normal, 1 reported, 2 hidden',
  create_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  update_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_general_ci;

-- step: tb_follow
CREATE TABLE IF NOT EXISTS tb_follow (
  id             BIGINT(20) NOT NULL AUTO_INCREMENT,
  user_id        BIGINT(20) UNSIGNED NOT NULL COMMENT 'the follower',
  follow_user_id BIGINT(20) UNSIGNED NOT NULL COMMENT 'the user being followed',
  create_time    TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_general_ci;

-- step: tb_sign
CREATE TABLE IF NOT EXISTS tb_sign (
  id        BIGINT(20) UNSIGNED NOT NULL AUTO_INCREMENT,
  user_id   BIGINT(20) UNSIGNED NOT NULL,
  `year`    YEAR NOT NULL,
  `month`   TINYINT(2) NOT NULL,
  `date`    DATE NOT NULL,
  is_backup TINYINT(1) UNSIGNED NULL DEFAULT NULL COMMENT 'make-up check-in',
  PRIMARY KEY (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_general_ci;
