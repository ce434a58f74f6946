/**
 * Entry script of a `"thread"` child started on `node:worker_threads` (Node; Deno's daemons
 * where its Web Worker cannot be unref'd).
 * @module
 */
import { threadParentChannel } from "../runtime/parent_channel_thread.ts";
import { bootstrap } from "./bootstrap.ts";

bootstrap(threadParentChannel());
