/**
 * Entry script of a `"thread"` child started as a Web Worker (Bun, Deno).
 * @module
 */
import { workerParentChannel } from "../runtime/parent_channel_worker.ts";
import { bootstrap } from "./bootstrap.ts";

bootstrap(workerParentChannel());
