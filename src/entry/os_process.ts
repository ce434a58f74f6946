/**
 * Entry script of a `"process"` child.
 * @module
 */
import { processParentChannel } from "../runtime/parent_channel.ts";
import { bootstrap } from "./bootstrap.ts";

bootstrap(processParentChannel());
