/**
 * Entry script of a `"thread"` child.
 * @module
 */
import { threadParentChannel } from "../runtime/parent_channel.ts";
import { bootstrap } from "./bootstrap.ts";

bootstrap(threadParentChannel());
