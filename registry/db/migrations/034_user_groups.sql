-- User groups (issue 19), Harbor's: group_type 1 = LDAP (identified by ldap_group_dn), 2 = HTTP, 3 = OIDC (by name).
-- project_members rows with entity_type 'g' point here (002 reserved the type); deleting a group deletes its
-- memberships, which the foreign key cannot express on the shared entity_id column, so the store does it.
CREATE TABLE user_groups (
  id            serial PRIMARY KEY,
  group_name    text NOT NULL,
  group_type    integer NOT NULL CHECK (group_type IN (1, 2, 3)),
  ldap_group_dn text NOT NULL DEFAULT '',
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CHECK ((group_type = 1) = (ldap_group_dn <> ''))
);
-- LDAP groups are one per DN (DNs compare case-insensitively); the others one per name and type.
CREATE UNIQUE INDEX user_groups_ldap_dn ON user_groups (lower(ldap_group_dn)) WHERE group_type = 1;
CREATE UNIQUE INDEX user_groups_name ON user_groups (group_type, group_name) WHERE group_type <> 1;
