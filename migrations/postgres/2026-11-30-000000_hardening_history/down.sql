DROP INDEX ix_role_grants_role;
DROP INDEX ix_users_email;
DROP INDEX ix_users_page;
DROP TABLE history_head;
DROP TABLE history_events;
ALTER TABLE credentials DROP COLUMN pending_until;
ALTER TABLE credentials DROP COLUMN pending_attempts;
ALTER TABLE credentials DROP COLUMN secret_epoch;
