import { CYCLONEDX_MEDIA_TYPE } from "../scanning/sbom/cyclonedx";

// Harbor's accessory types by the referrer's artifact type. Berth's own SBOMs (CycloneDX referrers its scanner
// pushes) play the part of Harbor's generated SBOMs, so they count as harbor.sbom.
const ACCESSORY_TYPES: Record<string, string> = {
  "application/vnd.dev.cosign.artifact.sig.v1+json": "signature.cosign",
  "application/vnd.cncf.notary.signature": "signature.notation",
  "application/vnd.goharbor.harbor.sbom.v1": "harbor.sbom",
  [CYCLONEDX_MEDIA_TYPE]: "harbor.sbom",
};

/** Harbor's `type` of an accessory (a referrer); any other referrer is a `subject.accessory`, as in Harbor. */
export function accessoryType(referrer: { artifact_type: string | null }): string {
  return (referrer.artifact_type !== null && ACCESSORY_TYPES[referrer.artifact_type]) || "subject.accessory";
}
