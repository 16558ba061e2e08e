-- Who uploaded each blog image (not in the original, whose uploads had no owner): only that
-- user may delete it. The name is the upload layout path (/blogs/d1/d2/uuid.ext). Files
-- uploaded before this migration have no row, so nobody can delete them through the API.

-- step: tb_upload
CREATE TABLE IF NOT EXISTS tb_upload (
  name        VARCHAR(64) NOT NULL,
  user_id     BIGINT(20) UNSIGNED NOT NULL,
  size        INT UNSIGNED NOT NULL,
  create_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (name),
  KEY idx_upload_user_time (user_id, create_time)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_general_ci;
