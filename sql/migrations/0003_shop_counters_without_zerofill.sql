-- tb_shop.sold / comments / score lose ZEROFILL (the original declares them INT(10) ZEROFILL).
-- ZEROFILL only changes how a value is displayed, but over the text protocol the server then
-- sends '0000004215' instead of '4215'. On a table that never had ZEROFILL this is a no-op.

-- step: tb_shop counters
ALTER TABLE tb_shop
  MODIFY sold     INT(10) UNSIGNED NOT NULL COMMENT 'original: ZEROFILL',
  MODIFY comments INT(10) UNSIGNED NOT NULL COMMENT 'original: ZEROFILL',
  MODIFY score    INT(2) UNSIGNED NOT NULL COMMENT 'rating 1.0-5.0 times 10, original: ZEROFILL';
