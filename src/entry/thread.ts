/**
 * Entry script of a `"thread"` child.
 * @module
 */
import { threadParentChannel } from "../runtime/parent_channel_thread.ts";
import { bootstrap } from "./bootstrap.ts";

bootstrap(threadParentChannel());
