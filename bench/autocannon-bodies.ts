// autocannon (9.0.0, pinned in package.json) appends every response body to a string
// (`req.body += chunk` in lib/pipelinedRequestsQueue.js) whether or not anything reads it. For
// the demo catalog's Chinese text that UTF-8 decoding costs the load generator several times
// what the same number of ASCII bytes do (a 13.5 KB page of Chinese: ~86 µs of its CPU a
// response against ~27 µs), on the cores the server runs on. That is the harness's work, not the
// server's: the bench turns it off for every scenario whose responses nobody reads, and keeps it
// for the checkout flow, whose next request is built from the last answer (`onResponse`).
import { createRequire } from 'node:module';

interface Queue {
  // a property, not a method: it is taken off the prototype and called with the queue as `this`
  prototype: { addBody: (data: Buffer) => void };
}

const require = createRequire(import.meta.url);
const queue = require('autocannon/lib/pipelinedRequestsQueue.js') as Queue;
const addBody = queue.prototype.addBody;
if (typeof addBody !== 'function') {
  throw new Error('autocannon changed: bench/autocannon-bodies.ts no longer finds addBody');
}

let keep = true;
queue.prototype.addBody = function (this: object, data: Buffer) {
  if (keep) addBody.call(this, data);
};

/** Whether the bodies of the responses that follow are kept (decoded) for whoever reads them. */
export function keepBodies(on: boolean): void {
  keep = on;
}
