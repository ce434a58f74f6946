/**
 * Every kind of shared object, loaded by a child before it revives the handles it was sent.
 * @module
 */
import "../values/value.ts";
import "../values/array.ts";
import "../values/shared_memory.ts";
import "../values/shareable_list.ts";
import "../sync/lock.ts";
import "../sync/rlock.ts";
import "../sync/semaphore.ts";
import "../sync/event.ts";
import "../sync/condition.ts";
import "../sync/barrier.ts";
import "../channels/queue.ts";
import "../channels/pipe.ts";
import "../proxy/proxies.ts";
