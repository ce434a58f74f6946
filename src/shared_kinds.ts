/**
 * Every kind of shared object, loaded by a child before it revives the handles it was sent.
 * @module
 */
import "./shm/value.ts";
import "./shm/array.ts";
import "./shm/shared_memory.ts";
import "./sync/lock.ts";
import "./sync/rlock.ts";
import "./sync/semaphore.ts";
import "./sync/event.ts";
import "./sync/condition.ts";
import "./sync/barrier.ts";
import "./mp/queue.ts";
import "./mp/pipe.ts";
