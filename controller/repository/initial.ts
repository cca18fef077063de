import { mkdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { simpleGit } from "simple-git";

/** What a new registry declares: the public project `library` it creates at the first start, and how to go on. */
const PROJECTS_YAML = `# projects.yaml: the projects of this registry and their rules.
#
# This repository is the registry's policy: Berth applies every commit on its branch within seconds and, on its
# drift schedule (BERTH_CONTROLLER_SCHEDULE, every 5 minutes), puts back whatever was changed by hand.
# Clone it, edit, check, commit and push:
#   npx berth-controller validate --repo .     # errors as projects.yaml:LINE:COL
#   npx berth-controller plan --repo .         # what would change, and who gains or loses access
#   npx berth-controller status                # what the registry applied last, and any error
# Every field: policies/schemas/*.schema.json and examples/policies/ in Berth's source.

projects:
  # Created at the first start. Public: anyone may pull from it; members of it may push.
  - name: library
    public: true

  # A private project with a quota, immutable release tags and a retention rule:
  # - name: dev-team
  #   public: false
  #   storageLimit: 10GiB
  #   immutableTags:
  #     - repositories: "**"
  #       tags: "release-*"          # a pushed release-* tag can never be moved or deleted
  #   retention:
  #     schedule: "0 0 3 * * *"      # 6-field cron: every day at 03:00
  #     rules:
  #       - template: latestPushedK  # keep the 10 most recently pushed artifacts of each repository
  #         params: { latestPushedK: 10 }
  #         repositories: "**"
  #         tags: "**"
  #   autoScan: true                 # scan every image when it is pushed
  #   preventVulnerable:             # refuse pulls of unscanned images and of those with High or Critical findings
  #     severity: high               # none | low | medium | high | critical; "preventVulnerable: off" turns it off
  #   cveAllowlist:                  # the project's own list, instead of the system's
  #     expiresAt: 2027-06-30        # a date (its start, UTC) or an RFC 3339 time; omit for never
  #     items: [CVE-2024-1234]
  # (A setting left out is not managed: the registry keeps whatever it has.)

# What the controller may do beyond creating and updating what these files declare:
# controller:
#   prune: true        # delete objects it manages once they leave these files
#   drift: correct     # correct | warn | off: what a scheduled run does about changes made by hand
#   adopt: true        # take over objects of a declared name that were made by hand
`;

const MEMBERS_YAML = `# members.yaml: users, project members and robot accounts.
#
# Secrets never go in this repository, only references to them: env:NAME (a variable of the berth process) or
# file:PATH (a file it can read). A user's password is used only when the controller creates the user.

users: []
#  - username: alice
#    email: alice@example.com
#    passwordFrom: env:ALICE_INITIAL_PASSWORD

members: {}
#  dev-team:                  # roles: projectAdmin, maintainer, developer, guest, limitedGuest
#    - user: alice
#      role: developer         # developers push; maintainers and project admins also delete
#    - ldapGroup: cn=devs,ou=groups,dc=example,dc=org   # an LDAP group by DN (BERTH_AUTH_MODE=ldap)
#      role: developer
#    - group: devs             # an OIDC group by the name in the groups claim (BERTH_AUTH_MODE=oidc)
#      role: guest

robots: []
#  - name: ci                 # logs in as robot$dev-team+ci
#    project: dev-team
#    access: [pull, push]
#    duration: 90             # days; -1 never expires
#    secretFrom: file:/run/secrets/ci-robot
`;

/**
 * Creates the registry's own policy repository at `dir` (branch `main`, one commit) unless something is there already.
 * Returns whether it was created: only then does its first apply take over `library`, which the first start made.
 */
export async function createInitialPolicyRepository(dir: string): Promise<boolean> {
  if (await stat(dir).then(() => true, () => false)) return false;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(path.join(dir, "projects.yaml"), PROJECTS_YAML);
  await writeFile(path.join(dir, "members.yaml"), MEMBERS_YAML);
  const git = simpleGit(dir);
  await git.init(["--initial-branch=main"]);
  // People clone it and push back: a push updates these files when nobody has edited them here.
  await git.addConfig("receive.denyCurrentBranch", "updateInstead");
  await git.add(["projects.yaml", "members.yaml"]);
  await git.raw(["-c", "user.name=Berth", "-c", "user.email=berth@localhost", "commit", "-q", "-m", "Initial policy: the public project library"]);
  return true;
}
