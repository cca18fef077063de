import type { ProjectCreationRestriction } from "../config";
import type { Queryable } from "../db/sql";
import { managingSource } from "../gitops/ownership";
import type { Settings } from "../settings/settings";

/**
 * Harbor's project_creation_restriction: whether any logged-in user may create projects (`everyone`, Harbor's
 * default) or only system admins (`adminonly`). BERTH_PROJECT_CREATION_RESTRICTION decides when set, else the value an
 * admin stored through PUT /configurations. Neither set, it is
 * `adminonly` while a policy source manages this registry (the embedded controller, on unless
 * BERTH_CONTROLLER_REPO=off, or a `berth-controller watch` that claimed it): projects then come from policy files,
 * and a project anyone may create is also one in which its creator, as project admin, may aim webhooks anywhere.
 */
export class ProjectCreationRule {
  constructor(
    private readonly sql: Queryable,
    private readonly settings: Settings,
    private readonly embeddedController: boolean,
  ) {}

  async current(): Promise<ProjectCreationRestriction> {
    const chosen = await this.settings.chosen("project_creation_restriction");
    if (chosen) return chosen;
    if (this.embeddedController) return "adminonly";
    // Read each time: project creation is rare, and a controller may claim the registry at any moment.
    return (await managingSource(this.sql)) ? "adminonly" : "everyone";
  }
}
