import { HARBOR_AUTH_MODE, type AuthMode } from "../auth/auth-mode";
import type { LdapConfig } from "../identity/ldap/config";
import type { OidcConfig } from "../identity/oidc/config";

/** The identity settings /configurations shows: all from BERTH_* variables, read once at start. */
export interface AuthSettings {
  authMode: AuthMode;
  ldap?: LdapConfig;
  oidc?: OidcConfig;
}

type View = Record<string, { value: unknown; editable: false }>;

// Harbor's ldap_scope and ldap_group_search_scope: 0 base, 1 one level, 2 subtree.
const HARBOR_SCOPE = { base: 0, one: 1, sub: 2 } as const;

/**
 * The auth settings in Harbor's /configurations shape, read-only (they come from the environment): auth_mode always,
 * the ldap_* keys in ldap mode and the oidc_* keys in oidc mode, under Harbor's names. The LDAP search password and
 * the OIDC client secret are left out, as Harbor leaves them out.
 */
export function authSettingsView(settings: AuthSettings): View {
  const values: Record<string, unknown> = { auth_mode: HARBOR_AUTH_MODE[settings.authMode] };
  const { ldap, oidc } = settings;
  if (settings.authMode === "ldap" && ldap) {
    Object.assign(values, {
      ldap_url: ldap.url,
      ldap_base_dn: ldap.baseDn,
      ldap_search_dn: ldap.searchDn ?? "",
      ldap_uid: ldap.uidAttribute,
      ldap_filter: ldap.filter ?? "",
      ldap_scope: HARBOR_SCOPE[ldap.scope],
      ldap_timeout: ldap.timeoutMs / 1000,
      ldap_verify_cert: true,
      ldap_group_base_dn: ldap.groupBaseDn ?? "",
      ldap_group_search_filter: ldap.groupFilter,
      ldap_group_search_scope: HARBOR_SCOPE.sub,
      ldap_group_membership_attribute: ldap.groupAttribute ?? "",
      ldap_group_admin_dn: ldap.groupAdminDn ?? "",
    });
  }
  if (settings.authMode === "oidc" && oidc) {
    Object.assign(values, {
      oidc_endpoint: oidc.issuer,
      oidc_client_id: oidc.clientId,
      oidc_scope: oidc.scopes.join(","),
      oidc_groups_claim: oidc.groupsClaim,
      oidc_admin_group: oidc.adminGroup ?? "",
      oidc_user_claim: oidc.usernameClaim,
      oidc_auto_onboard: true,
      oidc_verify_cert: true,
    });
  }
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, { value, editable: false as const }]));
}
