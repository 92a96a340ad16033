/**
 * The stack's policy pack: `npm ci --prefix policy && pulumi preview --policy-pack policy`.
 * Only this file builds the PolicyPack, whose constructor starts the analyzer's gRPC server: tests
 * import ./policies instead.
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("swarm-flocker", { policies });
