-- Emails stop being unique: Berth logs in by username only, and a unique email lets any user probe which addresses
-- other accounts hold by trying to take them. User managers, who may list users anyway, are still told of a taken
-- address (registry/api/users.ts).
DROP INDEX users_email;
