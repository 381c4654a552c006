-- User names match case-insensitively by one rule, ASCII case folding,
-- whatever the database's locale. lower() follows the locale (a
-- locale-aware database folds the Kelvin sign to 'k'; a Turkish one folds
-- 'I' to a dotless 'i'), while the service counts failed logins under its
-- own folding: the two could disagree about which attempts are the same
-- user's. So the service folds each name (auth_username_key in domain.c)
-- and stores the result here, unique; logins look it up as it is, and the
-- failure counters use the same key. Names stored so far are folded once
-- here the same way: lower() under the "C" collation folds A-Z only.
ALTER TABLE users ADD COLUMN username_key text;
UPDATE users SET username_key = lower(username COLLATE "C");
ALTER TABLE users ALTER COLUMN username_key SET NOT NULL;
DROP INDEX users_username_key;
CREATE UNIQUE INDEX users_username_key ON users (username_key);
