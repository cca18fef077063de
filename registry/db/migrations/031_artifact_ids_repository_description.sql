-- Harbor's API names artifacts by a numeric id (an accessory's artifact_id and subject_artifact_id), and a
-- repository carries a description its owners may edit.
ALTER TABLE manifests ADD COLUMN id bigserial;
CREATE UNIQUE INDEX manifests_id ON manifests (id);
ALTER TABLE repositories ADD COLUMN description text NOT NULL DEFAULT '';
