// The Pulumi program (Pulumi.yaml: main stacks/index.ts): the stack's outputs.
import { berthStack } from "./stack";

const outputs = berthStack();
export const registryUrl = outputs.registryUrl;
export const adminUser = outputs.adminUser;
export const adminPassword = outputs.adminPassword;
export const controllerStatusUrl = outputs.controllerStatusUrl;
